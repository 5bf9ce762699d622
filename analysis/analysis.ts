import { MANIFEST_TYPES } from '../oci/media-types.ts';
import { deepAnalysis, type DeepReport } from './deep-analysis.ts';
import { readLastPlan } from './retention-last-plan.ts';
import type { RetentionPlan } from './retention.ts';
import { planGarbage, reclaimable, type PlanOptions, type Reclaimable } from '../storage/gc/gc-plan.ts';
import type { TaggedImage } from '../storage/gc/mark.ts';
import type { StoredBlobs } from '../storage/gc/stored-blobs.ts';
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
}

/** gc's settings (grace period, upload max age, untagged manifests) decide the `gc` figures, as they decide what gc does. */
export interface AnalyzeOptions extends PlanOptions {
  /** How many shared blobs to list. */
  top?: number;
  /** Also open the layers for file-level figures (deep-analysis.ts). */
  deep?: boolean;
}

interface BlobUse {
  mediaType: string;
  images: number;
  repositories: number;
}

/** A repository as the mark walked it: its images, each with the blobs it reaches, and the distinct blobs of all of them. */
interface WalkedRepository {
  tags: number;
  images: { figures: Omit<ImageFigures, 'bytes'>; keys: string[] }[];
  blobs: string[];
}

/** The storage accounting (README "Storage analysis"), read-only and safe while the registry runs. */
export async function analyze(store: Store, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const graph = new ManifestGraph(store.blobs);
  const now = new Date();
  const gcSettings: PlanOptions = { gracePeriodMs: options.gracePeriodMs, uploadMaxAgeMs: options.uploadMaxAgeMs, deleteUntagged: options.deleteUntagged };
  const uses = new Map<string, BlobUse>();
  const walked = new Map<string, WalkedRepository>();
  // Counted as gc's mark reaches each repository's images: one walk of the store, not a second one after it.
  const onRepository = (name: string, tagged: TaggedImage[]): void => {
    const blobs = new Set<string>();
    const images = tagged.map(({ digest, tags, reach }) => {
      for (const [key, mediaType] of reach) {
        const use = uses.get(key) ?? { mediaType, images: 0, repositories: 0 };
        use.images += 1;
        if (!blobs.has(key)) use.repositories += 1;
        uses.set(key, use);
        blobs.add(key);
      }
      return { figures: { repository: name, digest, mediaType: reach.get(digest) ?? '', tags }, keys: [...reach.keys()] };
    });
    walked.set(name, { tags: sum(tagged.map((image) => image.tags.length)), images, blobs: [...blobs] });
  };
  // The accounting rules count against gc's default roots; only --delete-untagged changes them.
  const plan = await planGarbage(store, graph, { ...gcSettings, deleteUntagged: false, onRepository }, now);
  const gcPlan = gcSettings.deleteUntagged ? await planGarbage(store, graph, gcSettings, now) : plan;
  const sizeOf = (key: string): number => plan.stored.sizeOf(key) ?? 0;

  const images: ImageFigures[] = [];
  const repositories = plan.marks.repositories.map((name): RepositoryFigures => {
    const { tags, images: walkedImages, blobs } = walked.get(name) ?? { tags: 0, images: [], blobs: [] };
    const repositoryImages = walkedImages.map(({ figures, keys }) => ({ ...figures, bytes: sum(keys.map(sizeOf)) }));
    images.push(...repositoryImages);
    const uniqueBytes = sum(blobs.filter((key) => uses.get(key)!.repositories === 1).map(sizeOf));
    const storedBytes = sum(blobs.map(sizeOf));
    return {
      name,
      tags,
      images: repositoryImages.length,
      manifests: blobs.filter((key) => MANIFEST_TYPES.includes(uses.get(key)!.mediaType)).length,
      logicalBytes: sum(repositoryImages.map((image) => image.bytes)),
      storedBytes,
      uniqueBytes,
      sharedBytes: storedBytes - uniqueBytes,
    };
  });
  walked.clear();
  const physicalBytes = plan.stored.bytes;
  const logicalBytes = sum(repositories.map((repository) => repository.logicalBytes));
  const report: AnalysisReport = {
    storage: store.driver.location,
    generatedAt: now.toISOString(),
    physicalBytes,
    blobCount: plan.stored.count,
    referencedBytes: sum([...uses.keys()].map(sizeOf)),
    logicalBytes,
    dedupRatio: physicalBytes === 0 ? 1 : logicalBytes / physicalBytes,
    unreferencedBytes: sum(plan.unreferenced.map((blob) => blob.size)),
    unreferencedBlobs: plan.unreferenced.length,
    staleUploads: { count: plan.uploads.length, bytes: sum(plan.uploads.map((upload) => upload.size)) },
    gc: reclaimable(gcPlan),
    missingBlobs: [...uses.keys()].filter((key) => !plan.stored.has(key)).length,
    repositories,
    images,
    topSharedBlobs: topShared(uses, plan.stored, options.top ?? 20),
  };
  if (options.deep) report.deep = await deepAnalysis(store, images, graph, options.top ?? 20);
  const retention = await readLastPlan(store.driver);
  if (retention) report.retention = retention;
  return report;
}

function topShared(uses: Map<string, BlobUse>, stored: StoredBlobs, top: number): SharedBlob[] {
  return [...uses]
    .filter(([key, use]) => use.images > 1 && stored.has(key))
    .map(([digest, use]) => {
      const size = stored.sizeOf(digest)!;
      return { digest, size, mediaType: use.mediaType, images: use.images, repositories: use.repositories, bytesSaved: size * (use.images - 1) };
    })
    .sort((a, b) => b.bytesSaved - a.bytesSaved || a.digest.localeCompare(b.digest))
    .slice(0, top);
}
