import { MANIFEST_TYPES } from '../oci/media-types.ts';
import { deepAnalysis, type DeepReport } from './deep-analysis.ts';
import { readLastPlan } from './retention-last-plan.ts';
import type { RetentionPlan } from './retention.ts';
import { planGarbage, reclaimable, type PlanOptions, type Reclaimable } from '../storage/gc/gc-plan.ts';
import type { TaggedImage } from '../storage/gc/mark.ts';
import { StoredBlobs } from '../storage/gc/stored-blobs.ts';
import { ManifestGraph } from '../storage/manifest-graph.ts';
import type { Store } from '../storage/store.ts';
import { sum } from '../storage/sum.ts';

/** An image: a distinct manifest tags point to in one repository. */
export interface ImageFigures {
  repository: string;
  digest: string;
  mediaType: string;
  tags: string[];
  /** Bytes of the distinct blobs it reaches, as if stored alone. */
  bytes: number;
}

export interface RepositoryFigures {
  name: string;
  tags: number;
  images: number;
  /** Distinct manifests its images reach, indexes expanded: an index and each platform's manifest. */
  manifests: number;
  /** Sum of its image sizes. */
  logicalBytes: number;
  /** Bytes of the distinct blobs its images reach: uniqueBytes + sharedBytes. */
  storedBytes: number;
  /** Of storedBytes, blobs no other repository's images reach. */
  uniqueBytes: number;
  sharedBytes: number;
}

export interface SharedBlob {
  digest: string;
  size: number;
  mediaType: string;
  images: number;
  repositories: number;
  /** size × (images − 1): what storing it once instead of once per image saves. */
  bytesSaved: number;
}

export interface AnalysisReport {
  storage: string;
  generatedAt: string;
  /** Distinct blobs in the store, whatever references them. */
  physicalBytes: number;
  blobCount: number;
  /** Distinct blobs some image reaches. */
  referencedBytes: number;
  /** Sum of image sizes over all repositories. */
  logicalBytes: number;
  /** logicalBytes / physicalBytes (1 for an empty store). */
  dedupRatio: number;
  /**
   * Blobs nothing references (no tag, no revision, no referrer of a survivor), whatever their
   * age: what gc's default roots do not reach. How much of it gc frees now is in `gc`.
   */
  unreferencedBytes: number;
  unreferencedBlobs: number;
  /** Upload sessions idle past gc's maximum age. */
  staleUploads: { count: number; bytes: number };
  /** What `berth gc` with the same settings frees now and once the grace period has passed: its dry run's figures. */
  gc: Reclaimable;
  /** Blobs images name that the store lacks (foreign layers, damage). */
  missingBlobs: number;
  repositories: RepositoryFigures[];
  images: ImageFigures[];
  /** Blobs in more than one image, most bytes saved first. */
  topSharedBlobs: SharedBlob[];
  deep?: DeepReport;
  /** The plan of the last scheduled retention run (`retention.schedule`): what the policies would free, per repository. */
  retention?: RetentionPlan;
  /** Per upstream of the pull-through cache (`mirror.upstreams`), what its cached repositories cost and save. */
  mirrors?: MirrorFigures[];
}

/** What a mirror's cache (every repository under `<name>/`) costs in storage, and what storing each blob once saves it. */
export interface MirrorFigures {
  name: string;
  repositories: number;
  images: number;
  /** Sum of its image sizes: what holding each image apart would take. */
  logicalBytes: number;
  /** Bytes of the distinct blobs its images reach. */
  storedBytes: number;
  /** Of storedBytes, blobs nothing outside the mirror reaches: what deleting the whole cache would free. */
  uniqueBytes: number;
  /** logicalBytes − storedBytes: what sharing layers between its images saves. */
  savedBytes: number;
}

/** gc's settings (grace period, upload max age, untagged manifests) decide the `gc` figures, as they decide what gc does. */
export interface AnalyzeOptions extends PlanOptions {
  /** How many shared blobs to list. */
  top?: number;
  /** Also open the layers for file-level figures (deep-analysis.ts). */
  deep?: boolean;
  /** Upstream names of the pull-through cache (`mirror.upstreams[].name`): each gets its MirrorFigures. */
  mirrors?: readonly string[];
}

/**
 * What reaches each stored blob, by its place in StoredBlobs: typed arrays, as a large registry's
 * blobs are many (issue 29: an object and a map entry each were a tenth of the analysis's memory).
 */
class BlobUses {
  readonly images: Uint32Array;
  readonly repositories: Uint32Array;
  /** The first repository in catalog order whose images reach the blob: the media type is as it names it, the unique bytes are its. */
  readonly first: Uint32Array;
  readonly mediaTypes: string[];

  constructor(count: number) {
    this.images = new Uint32Array(count);
    this.repositories = new Uint32Array(count);
    this.first = new Uint32Array(count).fill(0xffffffff);
    this.mediaTypes = new Array<string>(count);
  }
}

/** One mirror's repositories as the mark reaches them: per stored blob, how many of them reach it. */
class MirrorTally {
  private readonly reaching: Uint32Array;
  private repositories = 0;
  private images = 0;
  private logicalBytes = 0;

  constructor(
    private readonly name: string,
    blobs: number,
  ) {
    this.reaching = new Uint32Array(blobs);
  }

  add(repository: RepositoryFigures, blobs: Iterable<string>, stored: StoredBlobs): void {
    this.repositories++;
    this.images += repository.images;
    this.logicalBytes += repository.logicalBytes;
    for (const key of blobs) {
      const at = stored.indexOf(key);
      if (at !== undefined) this.reaching[at]! += 1;
    }
  }

  /** Once every repository is walked: a blob is the mirror's alone when all the repositories reaching it are the mirror's. */
  figures(uses: BlobUses, stored: StoredBlobs): MirrorFigures {
    let storedBytes = 0;
    let uniqueBytes = 0;
    for (let at = 0; at < stored.count; at++) {
      const reaching = this.reaching[at]!;
      if (reaching === 0) continue;
      storedBytes += stored.sizeAt(at);
      if (reaching === uses.repositories[at]) uniqueBytes += stored.sizeAt(at);
    }
    const { name, repositories, images, logicalBytes } = this;
    return { name, repositories, images, logicalBytes, storedBytes, uniqueBytes, savedBytes: logicalBytes - storedBytes };
  }
}

/**
 * Manifests the analysis keeps parsed: its one mark reaches each about once, and the repositories
 * walked at once share few (an index's children, reached from the index and as revisions).
 */
const CACHED_MANIFESTS = 4096;

/** The storage accounting (README "Storage analysis"), read-only and safe while the registry runs. */
export async function analyze(store: Store, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const graph = new ManifestGraph(store.blobs, CACHED_MANIFESTS);
  const now = new Date();
  const gcSettings: PlanOptions = { gracePeriodMs: options.gracePeriodMs, uploadMaxAgeMs: options.uploadMaxAgeMs, deleteUntagged: options.deleteUntagged };
  // The blobs first, then the mark: every size is known as each repository's images are reached, and counted then.
  const stored = await StoredBlobs.read(store.driver, (digest) => graph.key(digest));
  const uses = new BlobUses(stored.count);
  const missing = new Set<string>();
  const walked = new Map<number, { figures: RepositoryFigures; images: ImageFigures[] }>();
  const mirrors = new Map((options.mirrors ?? []).map((name) => [name, new MirrorTally(name, stored.count)]));
  const onRepository = (name: string, tagged: TaggedImage[], position: number): void => {
    const distinct = new Map<string, string>();
    const images = tagged.map(({ digest, tags, reach }): ImageFigures => {
      let bytes = 0;
      for (const [key, mediaType] of reach) {
        const at = stored.indexOf(key);
        if (at === undefined) missing.add(key);
        else {
          uses.images[at]! += 1;
          bytes += stored.sizeAt(at);
        }
        if (!distinct.has(key)) distinct.set(key, mediaType);
      }
      return { repository: name, digest, mediaType: reach.get(digest) ?? '', tags, bytes };
    });
    let storedBytes = 0;
    for (const [key, mediaType] of distinct) {
      const at = stored.indexOf(key);
      if (at === undefined) continue;
      storedBytes += stored.sizeAt(at);
      uses.repositories[at]! += 1;
      if (position < uses.first[at]!) {
        uses.first[at] = position;
        uses.mediaTypes[at] = mediaType;
      }
    }
    const figures: RepositoryFigures = {
      name,
      tags: sum(tagged.map((image) => image.tags.length)),
      images: images.length,
      manifests: [...distinct.values()].filter((mediaType) => MANIFEST_TYPES.includes(mediaType)).length,
      logicalBytes: sum(images.map((image) => image.bytes)),
      storedBytes,
      uniqueBytes: 0,
      sharedBytes: storedBytes,
    };
    const slash = name.indexOf('/');
    if (slash > 0) mirrors.get(name.slice(0, slash))?.add(figures, distinct.keys(), stored);
    walked.set(position, { figures, images });
  };
  // The accounting rules count against gc's default roots; only --delete-untagged changes them.
  const plan = await planGarbage(store, graph, { ...gcSettings, deleteUntagged: false, onRepository }, now, stored);
  const gcPlan = gcSettings.deleteUntagged ? await planGarbage(store, graph, gcSettings, now, stored) : plan;

  const byPosition = plan.marks.repositories.map((_, position) => walked.get(position)!);
  walked.clear();
  let referencedBytes = 0;
  for (let at = 0; at < stored.count; at++) {
    if (uses.repositories[at]! > 0) referencedBytes += stored.sizeAt(at);
    if (uses.repositories[at] !== 1) continue;
    const owner = byPosition[uses.first[at]!]!.figures;
    owner.uniqueBytes += stored.sizeAt(at);
    owner.sharedBytes -= stored.sizeAt(at);
  }
  const repositories = byPosition.map(({ figures }) => figures);
  const images = byPosition.flatMap((repository) => repository.images);
  const logicalBytes = sum(repositories.map((repository) => repository.logicalBytes));
  const report: AnalysisReport = {
    storage: store.driver.location,
    generatedAt: now.toISOString(),
    physicalBytes: stored.bytes,
    blobCount: stored.count,
    referencedBytes,
    logicalBytes,
    dedupRatio: stored.bytes === 0 ? 1 : logicalBytes / stored.bytes,
    unreferencedBytes: sum(plan.unreferenced.map((blob) => blob.size)),
    unreferencedBlobs: plan.unreferenced.length,
    staleUploads: { count: plan.uploads.length, bytes: sum(plan.uploads.map((upload) => upload.size)) },
    gc: reclaimable(gcPlan),
    missingBlobs: missing.size,
    repositories,
    images,
    topSharedBlobs: topShared(uses, stored, options.top ?? 20),
  };
  if (mirrors.size > 0) report.mirrors = [...mirrors.values()].map((mirror) => mirror.figures(uses, stored));
  if (options.deep) report.deep = await deepAnalysis(store, images, graph, options.top ?? 20);
  const retention = await readLastPlan(store.driver);
  if (retention) report.retention = retention;
  return report;
}

function topShared(uses: BlobUses, stored: StoredBlobs, top: number): SharedBlob[] {
  const shared: SharedBlob[] = [];
  let at = 0;
  for (const [digest, size] of stored.entries()) {
    const images = uses.images[at]!;
    if (images > 1)
      shared.push({ digest, size, mediaType: uses.mediaTypes[at]!, images, repositories: uses.repositories[at]!, bytesSaved: size * (images - 1) });
    at++;
  }
  return shared.sort((a, b) => b.bytesSaved - a.bytesSaved || a.digest.localeCompare(b.digest)).slice(0, top);
}
