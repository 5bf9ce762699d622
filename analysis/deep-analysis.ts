import { posix } from 'node:path';
import { Digest } from '../oci/digest.ts';
import { PathNotFoundError } from '../storage/driver.ts';
import { scanLayer, type LayerChanges } from './layer-scan.ts';
import type { ManifestGraph, Reference } from '../storage/manifest-graph.ts';
import type { Store } from '../storage/store.ts';
import { sum } from '../storage/sum.ts';

export interface DuplicateFile {
  /** Where it was first seen. */
  path: string;
  size: number;
  /** Distinct layers holding it. */
  copies: number;
  bytesSaved: number;
}

/**
 * Why a layer was not scanned, which says what its absence does to the figures:
 * - `artifact`: its media type is not a filesystem layer (a chart, a signature, an SBOM): nothing is missed;
 * - `missing`: the store lacks it (a foreign layer, or damage): its files are not counted;
 * - `unreadable`: a filesystem layer that does not open as a tar (damaged, or a format the scan
 *   does not know): its files are not counted.
 */
export type SkipKind = 'artifact' | 'missing' | 'unreadable';

export interface SkippedLayer {
  digest: string;
  mediaType: string;
  kind: SkipKind;
  reason: string;
}

/** The images to open (analysis.ts passes its ImageFigures; a type of its own keeps this module from importing that one). */
export interface ScannedImage {
  repository: string;
  digest: string;
  tags: string[];
}

export interface DeepReport {
  layersScanned: number;
  /** Layers not scanned: their files are in none of the figures below. */
  layersSkipped: SkippedLayer[];
  filesHashed: number;
  /** Regular-file bytes across the distinct layers. */
  fileBytes: number;
  /** What file-level dedup would save on top of layer dedup: each identical file kept once, not once per layer. */
  duplicateFileBytes: number;
  topDuplicateFiles: DuplicateFile[];
  /** Per image: bytes of files a later layer of the same image overwrites or deletes. */
  images: { repository: string; digest: string; tags: string[]; wastedBytes: number; wastedFiles: number }[];
  /** Sum of the images' wasted bytes. */
  wastedBytes: number;
  /** More distinct files than the table tracks: duplicate figures are a lower bound. */
  truncated: boolean;
}

/** Distinct file contents tracked for dedup, and file lists kept for reuse: both bound the memory. */
const MAX_TRACKED_FILES = 1_000_000;
const MAX_CACHED_FILE_ENTRIES = 500_000;

/** Media types of container filesystem layers (OCI, Docker schema2 and schema1, foreign and non-distributable ones too). */
const FILESYSTEM_LAYER = /\bimage\.(layer|rootfs)\./;

interface TrackedFile {
  path: string;
  size: number;
  copies: number;
  lastLayer: string;
}

/**
 * Opens every distinct layer the images reach once to hash its files; file lists are cached
 * within a bound and a layer evicted from the cache is re-read (without hashing) when another
 * image needs it again.
 */
export async function deepAnalysis(store: Store, images: ScannedImage[], graph: ManifestGraph, top = 20): Promise<DeepReport> {
  const files = new Map<string, TrackedFile>();
  let truncated = false;
  let filesHashed = 0;
  let fileBytes = 0;
  const hashed = new Set<string>();
  const skipped = new Map<string, SkippedLayer>();
  const cache = new Map<string, LayerChanges>();
  let cachedEntries = 0;

  const changesOf = async ({ digest, mediaType }: Reference): Promise<LayerChanges | undefined> => {
    const key = digest.toString();
    const cached = cache.get(key);
    if (cached || skipped.has(key)) return cached;
    const first = !hashed.has(key);
    try {
      const changes = await scanLayer(
        (range) => store.blobs.reader(digest, range),
        first
          ? (path, size, sha256) => {
              filesHashed += 1;
              fileBytes += size;
              if (size === 0) return;
              const id = sha256.toString('base64');
              const seen = files.get(id);
              if (seen && seen.lastLayer !== key) Object.assign(seen, { copies: seen.copies + 1, lastLayer: key });
              else if (!seen && files.size < MAX_TRACKED_FILES) files.set(id, { path, size, copies: 1, lastLayer: key });
              else if (!seen) truncated = true;
            }
          : undefined,
      );
      hashed.add(key);
      cache.set(key, changes);
      cachedEntries += changes.files.length;
      for (const [oldest, old] of cache) {
        if (cachedEntries <= MAX_CACHED_FILE_ENTRIES) break;
        cache.delete(oldest);
        cachedEntries -= old.files.length;
      }
      return changes;
    } catch (error) {
      const kind: SkipKind = error instanceof PathNotFoundError ? 'missing' : FILESYSTEM_LAYER.test(mediaType) ? 'unreadable' : 'artifact';
      skipped.set(key, { digest: key, mediaType, kind, reason: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };

  const perImage: DeepReport['images'] = [];
  for (const image of images) {
    let wastedBytes = 0;
    let wastedFiles = 0;
    for (const layers of await layerStacks(graph, Digest.parse(image.digest))) {
      const changes: LayerChanges[] = [];
      for (const layer of layers) {
        const layerChanges = await changesOf(layer);
        if (layerChanges) changes.push(layerChanges);
      }
      const waste = wastedSpace(changes);
      wastedBytes += waste.bytes;
      wastedFiles += waste.files;
    }
    perImage.push({ repository: image.repository, digest: image.digest, tags: image.tags, wastedBytes, wastedFiles });
  }

  const duplicates = [...files.values()]
    .filter((file) => file.copies > 1)
    .map(({ path, size, copies }) => ({ path, size, copies, bytesSaved: size * (copies - 1) }));
  return {
    layersScanned: hashed.size,
    layersSkipped: [...skipped.values()],
    filesHashed,
    fileBytes,
    duplicateFileBytes: sum(duplicates.map((file) => file.bytesSaved)),
    topDuplicateFiles: duplicates.sort((a, b) => b.bytesSaved - a.bytesSaved || a.path.localeCompare(b.path)).slice(0, top),
    images: perImage,
    wastedBytes: sum(perImage.map((image) => image.wastedBytes)),
    truncated,
  };
}

/** The ordered layers of each image manifest a root reaches: one stack, or one per platform of an index. */
async function layerStacks(graph: ManifestGraph, root: Digest): Promise<Reference[][]> {
  const node = await graph.node(root);
  const references = node?.references ?? [];
  const children = references.filter((ref) => ref.role === 'manifest');
  if (children.length === 0) return [references.filter((ref) => ref.role === 'layer')];
  return (await Promise.all(children.map((child) => layerStacks(graph, child.digest)))).flat();
}

/**
 * Bytes of files that a later layer overwrites or deletes: walking from the top layer down,
 * a file is wasted when an upper layer wrote the same path, whited it out, or emptied a
 * directory above it.
 */
export function wastedSpace(layers: LayerChanges[]): { bytes: number; files: number } {
  const written = new Set<string>();
  const removed = new Set<string>();
  let bytes = 0;
  let files = 0;
  for (const layer of [...layers].reverse()) {
    for (const file of layer.files) {
      if (written.has(file.path) || underAny(file.path, removed)) {
        bytes += file.size;
        files += 1;
      }
    }
    for (const file of layer.files) written.add(file.path);
    for (const path of [...layer.deleted, ...layer.opaque]) removed.add(path);
  }
  return { bytes, files };
}

/** Whether the path or one of its ancestors is in the set. */
function underAny(path: string, paths: Set<string>): boolean {
  for (let current = path; current !== '.' && current !== '' && current !== '/'; current = posix.dirname(current)) {
    if (paths.has(current)) return true;
  }
  return false;
}
