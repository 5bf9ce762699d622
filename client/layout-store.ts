import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Digest, DigestMismatchError } from '../oci/digest.ts';
import { descriptorJSON, parseDescriptor, type Descriptor } from '../oci/descriptor.ts';
import { MediaType } from '../oci/media-types.ts';
import { idleFor, tryLock } from './file-lock.ts';

/** image-spec annotations.md: the name an index.json entry is known by (`oci:DIR:NAME`). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

export function defaultStoreDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth', 'store');
}

interface IndexFile {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Record<string, unknown>[];
  [other: string]: unknown;
}

let uniqueSuffix = 0;
const STALE_LOCK_MS = 10_000;
const STALE_CLAIM_MS = 30_000;

/**
 * A local OCI image layout (image-layout.md) shared by every image pulled into it: blobs appear
 * only complete and verified (written aside, then renamed), index.json names images by ref.name.
 * Berth's own working files (partial downloads, where blobs came from) live under `.berth/`, which
 * other layout readers ignore.
 */
export class LayoutStore {
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<LayoutStore> {
    const store = new LayoutStore(dir);
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await mkdir(store.incomingDir, { recursive: true });
    if (!(await exists(join(dir, 'oci-layout')))) await store.writeAtomically('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (!(await exists(join(dir, 'index.json')))) {
      await store.writeAtomically('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    }
    return store;
  }

  private get incomingDir(): string {
    return join(this.dir, '.berth', 'incoming');
  }

  blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', digest.algorithm, digest.hex);
  }

  /** Where a download of `digest` collects its bytes until verified; kept across runs to resume. */
  partialPath(digest: Digest): string {
    return join(this.incomingDir, `${digest.algorithm}-${digest.hex}`);
  }

  /** True when the store holds the blob (of the expected size, when given). */
  async has(digest: Digest, size?: number): Promise<boolean> {
    try {
      const info = await stat(this.blobPath(digest));
      return size === undefined || info.size === size;
    } catch {
      return false;
    }
  }

  /** Moves a verified partial download into place. */
  async commitPartial(digest: Digest): Promise<void> {
    await mkdir(join(this.dir, 'blobs', digest.algorithm), { recursive: true });
    await rename(this.partialPath(digest), this.blobPath(digest));
  }

  /**
   * Claims the partial file of `digest` for one download across processes sharing the store.
   * Resolves with a release function, or with undefined once another process put the blob in place.
   * A claim whose process died, or whose partial file has not grown for STALE_CLAIM_MS, is taken over.
   */
  async claimPartial(digest: Digest, size: number): Promise<(() => Promise<void>) | undefined> {
    const partial = this.partialPath(digest);
    const claim = `${partial}.claim`;
    const abandoned = async () => Math.min(await idleFor(claim), await idleFor(partial)) > STALE_CLAIM_MS;
    for (;;) {
      if (await this.has(digest, size)) return undefined;
      const release = await tryLock(claim, abandoned);
      if (release && (await this.has(digest, size))) {
        await release();
        return undefined;
      }
      if (release) return release;
      await pause(50);
    }
  }

  async discardPartial(digest: Digest): Promise<void> {
    await rm(this.partialPath(digest), { force: true });
  }

  /** Writes small content (manifests, configs) after checking it against its digest. */
  async putBytes(digest: Digest, bytes: Uint8Array): Promise<void> {
    const actual = Digest.of(bytes, digest.algorithm);
    if (!actual.equals(digest)) throw new DigestMismatchError(digest, actual, 'local store write');
    if (await this.has(digest, bytes.length)) return;
    await mkdir(join(this.dir, 'blobs', digest.algorithm), { recursive: true });
    await this.writeAtomically(join('blobs', digest.algorithm, digest.hex), bytes);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /** A blob's bytes from `start` on. */
  openBlob(digest: Digest, start = 0): Readable {
    return createReadStream(this.blobPath(digest), { start });
  }

  private async writeAtomically(relative: string, content: Uint8Array | string): Promise<void> {
    const target = join(this.dir, relative);
    const temporary = join(this.incomingDir, `write-${process.pid}-${uniqueSuffix++}`);
    await writeFile(temporary, content);
    await rename(temporary, target);
  }

  /**
   * Runs `work` holding `.berth/lock`, so processes sharing the store take turns at index.json; a
   * lock older than STALE_LOCK_MS belonged to a process that hung.
   */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const path = join(this.dir, '.berth', 'lock');
    let release: (() => Promise<void>) | undefined;
    while (!(release = await tryLock(path, async () => (await idleFor(path)) > STALE_LOCK_MS))) await pause(10);
    try {
      return await work();
    } finally {
      await release();
    }
  }

  /** index.json and sources.json changes: one at a time in this process, under the lock across processes. */
  private serially<T>(task: () => Promise<T>): Promise<T> {
    const work = () => this.locked(task);
    const next = this.writes.then(work, work);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async readIndex(): Promise<IndexFile> {
    return JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as IndexFile;
  }

  /** Every named image in index.json. */
  async list(): Promise<{ name: string | undefined; descriptor: Descriptor }[]> {
    const index = await this.readIndex();
    return index.manifests.map((entry, i) => {
      const descriptor = parseDescriptor(entry, `index.json manifests[${i}]`);
      return { name: descriptor.annotations?.[REF_NAME], descriptor };
    });
  }

  /** The descriptor index.json names `name`, trying each candidate spelling in turn. */
  async resolve(...names: string[]): Promise<Descriptor | undefined> {
    const entries = await this.list();
    for (const name of names) {
      const found = entries.find((entry) => entry.name === name);
      if (found) return found.descriptor;
    }
    return undefined;
  }

  /**
   * Points `name` at `descriptor` in index.json, replacing what the name pointed at before. A name
   * that already points there is left as it is: a re-pull takes no lock and writes nothing.
   */
  async tag(name: string, descriptor: Descriptor): Promise<void> {
    const current = await this.resolve(name);
    if (current?.digest.equals(descriptor.digest) && current.mediaType === descriptor.mediaType && current.size === descriptor.size) return;
    await this.serially(async () => {
      const index = await this.readIndex();
      index.manifests = index.manifests.filter((entry) => (entry.annotations as Record<string, string> | undefined)?.[REF_NAME] !== name);
      index.manifests.push(descriptorJSON({ ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: name } }));
      await this.writeAtomically('index.json', JSON.stringify(index));
    });
  }

  private get sourcesPath(): string {
    return join(this.dir, '.berth', 'sources.json');
  }

  private async readSources(): Promise<Record<string, string[]>> {
    try {
      return JSON.parse(await readFile(this.sourcesPath, 'utf8')) as Record<string, string[]>;
    } catch {
      return {};
    }
  }

  /** Notes that these blobs exist in `registry/repository`, so a push there can mount them; nothing to write when all are noted. */
  async recordSource(digests: Digest[], registry: string, repository: string): Promise<void> {
    const source = `${registry}/${repository}`;
    const known = await this.readSources();
    if (digests.every((digest) => known[digest.toString()]?.includes(source))) return;
    await this.serially(async () => {
      const sources = await this.readSources();
      for (const digest of digests) {
        const known = (sources[digest.toString()] ??= []);
        if (!known.includes(source)) known.push(source);
      }
      await this.writeAtomically(join('.berth', 'sources.json'), JSON.stringify(sources));
    });
  }

  /** Repositories of `registry` known to hold the blob. */
  async sourcesIn(registry: string, digest: Digest): Promise<string[]> {
    const prefix = `${registry}/`;
    return ((await this.readSources())[digest.toString()] ?? []).filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
