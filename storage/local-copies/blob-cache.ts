import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat, statfs, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { DIGEST_ALGORITHMS, DigestingStream, type Digest } from '../../oci/digest.ts';
import type { ByteRange } from '../driver.ts';
import { FsDriver } from '../drivers/fs/fs-driver.ts';
import { isTempName } from '../drivers/fs/fs-temp-files.ts';
import type { LocalCopies, UploadCopy } from '../local-copies.ts';

/** Smaller blobs are not kept: fetching them costs about the round trip the link check makes anyway. */
const SMALLEST_KEPT = 1 << 20;
/** By default the cache takes at most this much, and at most a quarter of the free space it finds. */
const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;
/** A read refreshes a copy's place in the eviction order at most this often (one `utimes` per copy). */
const TOUCH_INTERVAL_MS = 60_000;
/** A temp file this old belongs to a process that died while filling it. */
const STALE_TEMP_MS = 60 * 60_000;
/** Uploads a process copies at once; past this the oldest (most likely abandoned) is dropped. */
const UPLOAD_COPIES = 64;
/** statfs(2)'s type of a filesystem in memory. */
const TMPFS_MAGIC = 0x01021994;
/** Where copies of uploads in progress wait for their digest. */
const UPLOADS = 'uploads';
/** Where a blob read whole once has an empty file, until its second read or for a day. */
const READS = 'reads';
const READ_MARK_MS = 24 * 60 * 60_000;

export interface BlobCacheSettings {
  /** Default: `berth-blob-cache-<uid>` in the system's temp directory. */
  directory?: string;
  /** Default: 2 GiB, or a quarter of the free space on the directory's filesystem if that is less. */
  maxBytes?: number;
}

export class BlobCacheError extends Error {}

/** The default directory: per user, so that no other account's files are ever served. */
export function defaultCacheDirectory(): string {
  return join(tmpdir(), `berth-blob-cache-${process.getuid?.() ?? 'user'}`);
}

/** Resolves when `stream` takes writes again or is gone. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('close', done);
  });
}

/** The file of an upload's copy: the bytes of its appends so far, in order. */
interface UploadFile {
  temp: string;
  /** Bytes passed to the copy until it broke (all of them written once `writing` settles, unless `broken`). */
  size: number;
  /** The last append's file closing. */
  writing: Promise<void>;
  broken: boolean;
  started: number;
}

/**
 * Local copies of blobs kept in remote storage (S3), so repeated downloads, and the first after a
 * push through this process, go at disk speed instead of the storage's. A digest's bytes never
 * change, so a copy is never stale: it is hashed as it is written and kept only if it matches. It
 * says nothing about membership: the caller still asks storage whether the repository holds the
 * blob, so a delete shows at once on every replica. Processes may share a directory: a copy appears
 * whole (temp + rename) or not at all, and the least recently read copies go once the directory
 * holds more than `maxBytes`.
 */
export class BlobCache implements LocalCopies {
  private readonly files: FsDriver;
  /** Copies this process is writing, by digest: a second download of one meanwhile just reads storage. */
  private readonly filling = new Map<string, Promise<void>>();
  /** Bytes of the copies being written, at most `fillingLimit`. */
  private fillingBytes = 0;
  /** A quarter of `maxBytes`: copies of many large blobs at once cannot fill the disk before eviction runs, and no one copy is larger. */
  private readonly fillingLimit: number;
  /** Reads being counted, one after another, so that a process's own reads of a blob count in order. */
  private counting: Promise<void> = Promise.resolve();
  private trimming: Promise<void> = Promise.resolve();
  private trimQueued = false;
  /** When this process last trimmed: counting reads trims too, at most hourly, so that old marks go even where no copy is made. */
  private trimmedAt = 0;
  /** Copies of uploads in progress, oldest first. */
  private readonly uploads = new Set<UploadFile>();

  private constructor(
    readonly directory: string,
    readonly maxBytes: number,
  ) {
    this.files = new FsDriver(directory);
    this.fillingLimit = maxBytes / 4;
  }

  /**
   * Creates the directory (owner only) or checks an existing one: a directory others may write to
   * could hand clients planted bytes, and a link could point anywhere.
   */
  static async open(settings: BlobCacheSettings = {}): Promise<BlobCache> {
    const directory = settings.directory ?? defaultCacheDirectory();
    await mkdir(directory, { recursive: true, mode: 0o700 }).catch((error: Error) => {
      throw new BlobCacheError(`cannot create cache directory ${directory}: ${error.message}`);
    });
    // lstat: a link planted where the directory should be (in a shared temp directory) is refused too.
    const info = await lstat(directory).catch((error: Error) => {
      throw new BlobCacheError(`cannot use cache directory ${directory}: ${error.message}`);
    });
    const uid = process.getuid?.();
    if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) {
      throw new BlobCacheError(`cache directory ${directory} must be a directory (not a link) that belongs to this user and is writable by no one else`);
    }
    for (const folder of [...Object.keys(DIGEST_ALGORITHMS), UPLOADS, READS]) await mkdir(join(directory, folder), { recursive: true, mode: 0o700 });
    const space = await statfs(directory);
    // Copies in tmpfs would hold memory the kernel cannot take back: only where someone chose it.
    if (settings.directory === undefined && space.type === TMPFS_MAGIC) {
      throw new BlobCacheError(`the default cache directory ${directory} is in memory (tmpfs): set storage.localCache.path to a directory on disk`);
    }
    return new BlobCache(directory, settings.maxBytes ?? Math.min(DEFAULT_MAX_BYTES, Math.floor((space.bavail * space.bsize) / 4)));
  }

  /**
   * `open`, except that trouble with the default directory (a read-only disk, a directory someone
   * else made) turns copies off instead of stopping the registry, since no one asked for that place:
   * `skipped` then says why. A directory given in the config must work.
   */
  static async openOrSkip(settings: BlobCacheSettings): Promise<{ cache?: BlobCache; skipped?: string }> {
    try {
      return { cache: await BlobCache.open(settings) };
    } catch (error) {
      if (settings.directory !== undefined) throw error;
      return { skipped: (error as Error).message };
    }
  }

  private path(digest: Digest): string {
    return `${digest.algorithm}/${digest.hex}`;
  }

  /** The local copy's bytes in `range`, or undefined when there is no whole copy (or it cannot be read). */
  async reader(digest: Digest, size: number, range: ByteRange): Promise<Readable | undefined> {
    const path = this.path(digest);
    try {
      const info = await this.files.stat(path);
      if (!info) return undefined;
      if (info.size !== size) {
        await this.files.delete(path);
        return undefined;
      }
      const now = new Date();
      if (now.getTime() - info.modified.getTime() > TOUCH_INTERVAL_MS) void utimes(join(this.directory, path), now, now).catch(() => undefined);
      return await this.files.reader(path, range);
    } catch {
      // Evicted meanwhile, or the disk failed: storage still has the blob.
      return undefined;
    }
  }

  /**
   * Copies a blob on its second whole read (a blob read once, by a mirror job or a one-off pull, may
   * never be read again), without touching that read: once `download` is done, `open` reads the blob
   * from storage again into the copy. The client's read keeps the storage reader's speed (S3 relays
   * splice; a copy made on the way went through the process at 0.63-0.75x Distribution's rate), for
   * one more read of storage per copy. The copy is kept once every byte came and they hash to
   * `digest`; if storage fails or the disk refuses, nothing is kept.
   */
  keepAfter(digest: Digest, size: number, download: Readable, open: () => Promise<Readable>): void {
    const key = digest.toString();
    if (size < SMALLEST_KEPT || size > this.fillingLimit || this.filling.has(key)) return;
    const done = download.closed ? Promise.resolve() : new Promise<void>((closed) => download.once('close', () => closed()));
    this.counting = this.counting.then(async () => {
      const second = await this.countRead(digest);
      if (!second || this.filling.has(key) || this.fillingBytes + size > this.fillingLimit) return;
      this.track(
        digest,
        size,
        done.then(open).then((source) => this.copy(digest, size, source)),
      );
    });
  }

  /**
   * Counts a whole read of a blob in the directory, so that reads by every process sharing it count
   * (with N workers, a blob's second read is often another worker's): true for every second one.
   */
  private async countRead(digest: Digest): Promise<boolean> {
    if (Date.now() - this.trimmedAt > STALE_TEMP_MS) void this.trim();
    const mark = join(this.directory, READS, `${digest.algorithm}-${digest.hex}`);
    // Whoever removes the mark of the read before holds the second read.
    const second = await rm(mark).then(
      () => true,
      () => false,
    );
    if (!second) await writeFile(mark, '').catch(() => undefined);
    return second;
  }

  /** Counts a copy under way until `written` settles, then trims. */
  private track(digest: Digest, size: number, written: Promise<void>): void {
    const key = digest.toString();
    const done = written
      .then(
        () => this.trim(),
        () => undefined,
      )
      .finally(() => {
        this.filling.delete(key);
        this.fillingBytes -= size;
      });
    this.filling.set(key, done);
    this.fillingBytes += size;
  }

  /** Writes `source` into the copy of `digest`, which appears only if every byte came and they hash to it. */
  private async copy(digest: Digest, size: number, source: Readable): Promise<void> {
    const digesting = new DigestingStream(digest.algorithm);
    const checked = new Transform({
      transform: (chunk: Buffer, _encoding, callback: TransformCallback) => callback(null, chunk),
      flush: (callback: TransformCallback) =>
        callback(digesting.bytes === size && digesting.digest().equals(digest) ? null : new Error(`${digest} from storage does not match its digest`)),
    });
    await this.files.write(
      this.path(digest),
      pipeline(source, digesting, checked, () => undefined),
    );
  }

  /**
   * A local copy of a new upload, so that the pull that often follows a push (CI) reads local
   * disk. Only an upload whose every byte passes through this process in order is copied, and
   * the copy is kept once the upload is committed under its digest.
   */
  startUpload(): UploadCopy {
    const now = Date.now();
    for (const old of this.uploads) {
      if (this.uploads.size < UPLOAD_COPIES && now - old.started < STALE_TEMP_MS) break;
      void this.dropUpload(old);
    }
    const copy: UploadFile = {
      temp: join(this.directory, UPLOADS, `${randomUUID()}.tmp-upload`),
      size: 0,
      writing: Promise.resolve(),
      broken: false,
      started: now,
    };
    this.uploads.add(copy);
    return {
      tee: (offset, source) => this.teeUpload(copy, offset, source),
      keep: (digest, size) => this.keepUpload(copy, digest, size),
      drop: () => void this.dropUpload(copy),
    };
  }

  /** `source`, an upload's bytes from `offset` on as they go to storage, as a stream that also appends them to its copy. */
  private teeUpload(copy: UploadFile, offset: number, source: Readable): Readable {
    if (!this.uploads.has(copy) || copy.broken || copy.size !== offset || this.fillingBytes > this.fillingLimit) {
      void this.dropUpload(copy);
      return source;
    }
    const file = createWriteStream(copy.temp, { flags: 'a', highWaterMark: 1 << 20 });
    copy.writing = new Promise((closed) => file.on('close', closed));
    file.on('error', () => (copy.broken = true));
    // Passes every chunk on, and writes it to the copy while the copy is whole, waiting while it is full.
    const tee = new Transform({
      transform: (chunk: Buffer, _encoding, callback: TransformCallback) => {
        // A broken copy is never kept: its bytes no longer count against the copies in flight.
        if (!copy.broken) {
          copy.size += chunk.length;
          this.fillingBytes += chunk.length;
          if (copy.size > this.fillingLimit) {
            copy.broken = true;
            file.destroy();
          }
        }
        if (file.destroyed || file.write(chunk)) callback(null, chunk);
        else void drained(file).then(() => callback(null, chunk));
      },
      flush: (callback: TransformCallback) => {
        if (!file.destroyed) file.end();
        callback();
      },
      destroy: (error, callback) => {
        // An append cut short leaves a copy that is never taken for whole.
        if (!file.writableEnded) {
          copy.broken = true;
          file.destroy();
        }
        callback(error);
      },
    });
    return pipeline(source, tee, () => undefined);
  }

  /** Keeps the upload's copy as the blob `digest` of `size` bytes, which the caller has verified the copied bytes to be. */
  private async keepUpload(copy: UploadFile, digest: Digest, size: number): Promise<void> {
    if (!this.uploads.delete(copy)) return;
    await copy.writing;
    this.fillingBytes -= copy.size;
    const written = await stat(copy.temp).catch(() => undefined);
    if (!copy.broken && copy.size === size && written?.size === size && size >= SMALLEST_KEPT) {
      // Synced before it is renamed, as downloads' copies are written: a copy is served on its size alone.
      const kept = await this.files.move(relative(this.directory, copy.temp), this.path(digest)).then(
        () => true,
        () => false,
      );
      if (kept) return void this.trim();
    }
    // The upload is committed whatever becomes of its copy.
    await rm(copy.temp, { force: true }).catch(() => undefined);
  }

  /** Forgets the upload's copy unless it is kept or dropped already: the upload went elsewhere, failed, or ended. */
  private dropUpload(copy: UploadFile): Promise<void> {
    if (!this.uploads.delete(copy)) return Promise.resolve();
    copy.broken = true;
    return copy.writing
      .then(async () => {
        this.fillingBytes -= copy.size;
        await rm(copy.temp, { force: true });
      })
      .catch(() => undefined);
  }

  /** Resolves once the copies being written now are kept or dropped (and trimmed); copies of uploads still in progress are dropped. */
  async settled(): Promise<void> {
    await this.counting;
    await Promise.all([...this.filling.values(), ...[...this.uploads].map((copy) => this.dropUpload(copy))]);
    await this.trimming;
  }

  /** Queues one pass of `trimNow` unless one is already waiting. */
  private trim(): Promise<void> {
    if (this.trimQueued) return this.trimming;
    this.trimQueued = true;
    this.trimming = this.trimming.then(() => {
      this.trimQueued = false;
      return this.trimNow().catch(() => undefined);
    });
    return this.trimming;
  }

  /** Removes the least recently read copies until the rest fit in `maxBytes`, stale temp files, and day-old marks of reads. */
  private async trimNow(): Promise<void> {
    this.trimmedAt = Date.now();
    for (const name of await readdir(join(this.directory, READS)).catch(() => [] as string[])) {
      const path = join(this.directory, READS, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > READ_MARK_MS) await rm(path, { force: true });
    }
    const copies: { path: string; size: number; touched: number }[] = [];
    for (const folder of [...Object.keys(DIGEST_ALGORITHMS), UPLOADS]) {
      const names = await readdir(join(this.directory, folder)).catch(() => [] as string[]);
      for (const name of names) {
        const path = join(this.directory, folder, name);
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        if (isTempName(name)) {
          if (Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
        } else {
          copies.push({ path, size: info.size, touched: info.mtimeMs });
        }
      }
    }
    let total = copies.reduce((sum, copy) => sum + copy.size, 0);
    for (const copy of copies.sort((a, b) => a.touched - b.touched)) {
      if (total <= this.maxBytes) break;
      await rm(copy.path, { force: true });
      total -= copy.size;
    }
  }
}
