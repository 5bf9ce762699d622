import pMap from 'p-map';
import { Digest, isDigestAlgorithm } from '../../oci/digest.ts';
import { PathNotFoundError, type Driver } from '../driver.ts';
import { paths } from '../paths.ts';
import { asciiOrder } from '../repository-store.ts';

/** A blob as the store holds it. */
export interface StoredBlob {
  digest: Digest;
  size: number;
  modified: Date;
}

/** An upload session under a repository's `_uploads`. */
export interface StoredUpload {
  repository: string;
  id: string;
  /** Bytes received so far. */
  size: number;
  /**
   * When it last made progress: the later of its start and its last appended chunk. A session
   * with neither (a delete cut short) falls back to when it was last touched at all.
   */
  lastActive?: Date;
}

/**
 * Repositories (or blob prefix directories) walked at once: a walk is a chain of small reads, each
 * waiting on the disk or the bucket, so one at a time leaves both idle (issue 29: two thirds of a gc
 * dry run's time was waiting).
 */
export const REPOSITORIES_IN_FLIGHT = 16;

/**
 * Blobs stated at once in each prefix directory walked (128 in all). On disk more only wait in
 * libuv's queue of 4 threads, and what waits outlives young-generation collections into the old
 * space: every blob of 16 prefixes at once (2,600 on a root of 42,000 blobs) was garbage for the full collector.
 */
const STATS_PER_PREFIX = 8;

/**
 * Every blob in the store (`blobs/<algorithm>/<2 hex>/<hex>/data`), several prefix directories at a
 * time, told to `found` as the walk meets it: the caller keeps what it needs, not a list of every blob.
 */
export async function storedBlobs(driver: Driver, found: (digest: Digest, size: number, modified: number) => void): Promise<void> {
  for (const algorithm of await driver.list(paths.blobsRoot)) {
    if (!isDigestAlgorithm(algorithm)) continue;
    const listPrefix = async (prefix: string) => {
      const hexes = await driver.list(`${paths.blobsRoot}/${algorithm}/${prefix}`);
      const statHex = async (hex: string) => {
        const digest = Digest.tryParse(`${algorithm}:${hex}`);
        const info = digest && (await driver.stat(paths.blobData(digest)));
        if (digest && info) found(digest, info.size, info.modified.getTime());
      };
      await pMap(hexes, statHex, { concurrency: STATS_PER_PREFIX });
    };
    await pMap(await driver.list(`${paths.blobsRoot}/${algorithm}`), listPrefix, { concurrency: REPOSITORIES_IN_FLIGHT });
  }
}

/** The digests named by `<root>/<algorithm>/<hex>` entries: a repository's `_layers` or revisions, the gc quarantine. */
export async function digestsUnder(driver: Driver, root: string): Promise<Digest[]> {
  const digests: Digest[] = [];
  for (const algorithm of await driver.list(root)) {
    if (!isDigestAlgorithm(algorithm)) continue;
    for (const hex of await driver.list(`${root}/${algorithm}`)) {
      const digest = Digest.tryParse(`${algorithm}:${hex}`);
      if (digest) digests.push(digest);
    }
  }
  return digests;
}

/** Every blob and manifest a repository links, as digest strings. */
export async function repositoryLinks(driver: Driver, name: string): Promise<Set<string>> {
  const [layers, revisions] = await Promise.all([digestsUnder(driver, paths.layersRoot(name)), digestsUnder(driver, paths.revisionsRoot(name))]);
  return new Set([...layers, ...revisions].map(String));
}

export async function storedUploads(driver: Driver, repository: string): Promise<StoredUpload[]> {
  const ids = await driver.list(paths.uploadsRoot(repository));
  return Promise.all(
    ids.map(async (id) => {
      const [data, started] = await Promise.all([driver.stat(paths.uploadData(repository, id)), startedAt(driver, repository, id)]);
      const times = [data?.modified, started].filter((time) => time !== undefined).map((time) => time.getTime());
      const lastActive = times.length ? new Date(Math.max(...times)) : await lastTouched(driver, repository, id);
      return { repository, id, size: data?.size ?? 0, ...(lastActive ? { lastActive } : {}) };
    }),
  );
}

/** The `startedat` timestamp an upload was created with, falling back to the file's own time. */
async function startedAt(driver: Driver, repository: string, id: string): Promise<Date | undefined> {
  const path = paths.uploadStartedAt(repository, id);
  try {
    const parsed = new Date((await driver.getContent(path)).toString('utf8').trim());
    if (!Number.isNaN(parsed.getTime())) return parsed;
  } catch (error) {
    if (!(error instanceof PathNotFoundError)) throw error;
  }
  return (await driver.stat(path))?.modified;
}

/**
 * A session directory with neither data nor `startedat` is what a process killed while deleting
 * it (or while creating it, on disk) left: Berth's state file, or on disk the empty directory. Its
 * time is when that happened; without one it would be listed, and kept, forever.
 */
async function lastTouched(driver: Driver, repository: string, id: string): Promise<Date | undefined> {
  return (await driver.stat(paths.uploadState(repository, id)))?.modified ?? (await driver.stat(paths.upload(repository, id)))?.modified;
}

/** A directory of the repositories tree with a repository's parts in it. */
export interface RepositoryDirectory {
  name: string;
  /** It holds links (`_layers` or `_manifests`): a repository of the catalog. */
  linked: boolean;
  /** It holds upload sessions (`_uploads`). */
  uploading: boolean;
}

/**
 * Every repository directory holding links or uploads, at any depth, and which of them it holds:
 * the catalog and the directories to look for uploads in, from one walk (issue 29: gc walked the
 * tree twice and listed `_uploads` in every repository, where it rarely is).
 */
export async function repositoryTree(driver: Driver): Promise<RepositoryDirectory[]> {
  const found: RepositoryDirectory[] = [];
  // A level at a time, a bounded number of listings at once: thousands of listings waiting at once are old-space garbage.
  for (let level = ['']; level.length;) {
    const listed = await pMap(level, (prefix) => driver.list(prefix ? `${paths.repositoriesRoot}/${prefix}` : paths.repositoriesRoot), {
      concurrency: REPOSITORIES_IN_FLIGHT,
    });
    level = level.flatMap((prefix, i) => {
      const children = listed[i]!;
      const linked = children.includes('_layers') || children.includes('_manifests');
      const uploading = children.includes('_uploads');
      if (prefix && (linked || uploading)) found.push({ name: prefix, linked, uploading });
      return children.filter((child) => !child.startsWith('_')).map((child) => (prefix ? `${prefix}/${child}` : child));
    });
  }
  return found.sort((a, b) => asciiOrder(a.name, b.name));
}

/**
 * Every repository directory holding links or uploads. Unlike the catalog this includes
 * repositories with blobs but no manifest yet: gc must see their links and uploads.
 */
export async function repositoryDirectories(driver: Driver): Promise<string[]> {
  return (await repositoryTree(driver)).map((directory) => directory.name);
}
