import {
  createReadStream,
  open as openCallback,
  read as readCallback,
  readdir as readdirCallback,
  readFile as readFileCallback,
  readFileSync,
  readdirSync,
  statSync,
  type ReadStream,
} from 'node:fs';
import { access, mkdir, open, rename, rm, rmdir, stat, writeFile, constants, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import {
  OffsetMismatchError,
  PathNotFoundError,
  type ByteRange,
  type Driver,
  type FileInfo,
  type PurgeOptions,
  type SendingReader,
  type StaleWrites,
} from '../../driver.ts';
import { DirectSink } from './direct-sink.ts';
import { isTempName, purgeStaleTemps, tempPathIn } from './fs-temp-files.ts';
import { appendAlone } from '../append-alone.ts';
import { SocketTarget } from '../socket-target.ts';
import { chunksHandedOver } from '../../chunk-ownership.ts';
import { makeDirectory } from '../../make-directory.ts';
import { paths } from '../../paths.ts';

/** Large writes go to disk in big slices: fewer syscalls on multi-GiB blobs. */
const WRITE_BUFFER = 1 << 20;
/** Reads in 4 MiB slices: half the CPU per byte of 1 MiB ones when serving large blobs. */
const READ_BUFFER = 4 << 20;

const openDescriptor = promisify(openCallback);
const readDescriptor = promisify(readCallback);
/**
 * Links, manifests and listings through the callback API: a gc or an analysis makes tens of
 * thousands of these, and the promise API's FileHandle cost a third more CPU per file read, a
 * fifth more per listing (issue 29).
 */
const readWhole = promisify(readFileCallback);
const listNames = promisify(readdirCallback);

/**
 * Slices of a file copied to a response: SEND_SLOTS buffers of SEND_BUFFER bytes take turns, so a
 * read is under way while up to three slices wait in the socket's queue and it never runs dry.
 * Between sendfile calls one slice waits for a full socket: 128 KiB to 512 KiB did best there.
 */
const SEND_BUFFER = 256 << 10;
const SEND_SLOTS = 4;

/** Most bytes one thread-pool job sends (in sendfile(2) calls of 48 KiB, native/sendfile.c) before the loop looks again. */
const ZERO_COPY_SLICE = 8 << 20;

/**
 * Sends the bytes of `fd` from `range` (or all of them) into `destination`. On a plain TCP
 * socket the kernel copies file pages straight into it (sendfile); a slice copied through a
 * buffer carries the headers first, and again whenever the socket is full, since its write
 * callback is how Node tells that the socket takes bytes again. Elsewhere (TLS, no addon) all
 * slices go through reused buffers: a read stream allocates one per slice, and collecting those
 * took a quarter of the CPU of large downloads.
 */
async function sendFile(stream: ReadStream, fd: number, range: ByteRange | undefined, destination: Writable): Promise<void> {
  const done = finished(destination);
  done.catch(() => undefined);
  const write = (chunk: Buffer) => {
    const written = new Promise<void>((resolve, reject) => destination.write(chunk, (error) => (error ? reject(error) : resolve())));
    // When the client hangs up, `done` ends the loop and the writes still queued fail with no one
    // awaiting them: unhandled, those rejections would take the whole server down.
    written.catch(() => undefined);
    return written;
  };
  const buffers = Array.from({ length: SEND_SLOTS }, () => Buffer.allocUnsafeSlow(SEND_BUFFER));
  const writes: Promise<void>[] = buffers.map(() => Promise.resolve());
  const end = range?.end ?? Number.POSITIVE_INFINITY;
  let position = range?.start ?? 0;
  const socket = SocketTarget.of(destination);
  try {
    for (let turn = 0; position < end; turn++) {
      if (socket && turn > 0) {
        await Promise.race([Promise.all(writes), done]);
        if (socket.drained) {
          const { sent, blocked } = await socket.send(fd, position, Math.min(end - position, ZERO_COPY_SLICE));
          position += sent;
          if (!blocked) {
            if (sent === 0) break;
            continue;
          }
          // A full socket gets the next slice copied; its write callback says when it drained.
        }
      }
      const slot = turn % SEND_SLOTS;
      // This buffer is free again once its last write is done.
      await Promise.race([writes[slot], done]);
      const buffer = buffers[slot]!;
      const { bytesRead } = await readDescriptor(fd, buffer, 0, Math.min(buffer.length, end - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      writes[slot] = write(buffer.subarray(0, bytesRead));
    }
    await Promise.race([Promise.all(writes), done]);
    destination.end();
    await done;
  } finally {
    socket?.release();
    stream.destroy();
  }
}

/** Written bytes between background flushes of an upload. */
const SYNC_EVERY = 32 << 20;

/**
 * Flushes an upload to disk in the background each time its size crosses a multiple of
 * SYNC_EVERY, counted from the start of the file so that small chunks trigger flushes too. The
 * flush that makes the upload durable (in `move`) then waits for the last slice only; flushing
 * every chunk on its own made chunked uploads wait for the disk once per request.
 * Resolves when the last flush started here is done; it never rejects (a flush is only a head start).
 */
function syncWhileWriting(handle: FileHandle, source: Readable, offset: number): () => Promise<void> {
  let unsynced = offset % SYNC_EVERY;
  let syncing: Promise<void> = Promise.resolve();
  let busy = false;
  source.on('data', (chunk: Buffer) => {
    unsynced += chunk.length;
    if (unsynced < SYNC_EVERY || busy) return;
    unsynced = 0;
    busy = true;
    syncing = handle
      .datasync()
      .catch(() => undefined)
      .finally(() => (busy = false));
  });
  return () => syncing;
}

/** Makes a file's data durable before it is renamed into place. */
async function datasync(full: string): Promise<void> {
  const handle = await open(full, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** gc prunes a directory once a run, so one retry is the rule: the bound only ends a loop against something that keeps removing it. */
const DIRECTORY_ATTEMPTS = 50;

/**
 * Makes `dir`, then runs `create`, which puts an entry in it. gc prunes empty directories while the
 * registry serves (`pruneEmpty`), so the directory may be gone again before `create` runs: then
 * `create` fails with ENOENT and the directory is made again. Once an entry is in it, it stays.
 */
async function inDirectory<T>(dir: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await create();
    } catch (error) {
      const pruned = (error as NodeJS.ErrnoException).code === 'ENOENT' && !(await stat(dir).catch(() => undefined));
      if (!pruned || attempt >= DIRECTORY_ATTEMPTS) throw error;
    }
  }
}

export interface FsDriverOptions {
  /** `false` keeps uploads in the page cache even where O_DIRECT is to be had. */
  directWrites?: boolean;
  /**
   * `stat`, `getContent` and `list` block the calling thread instead of going through libuv's
   * thread pool, which hands each call to a thread and back: for a process that only walks the
   * store (`berth gc`, `berth analyze`), a third less CPU and none of the context switches (gc of
   * 1,000 repositories: ~45,000, issue 29). Never in a server: it would hold every request up
   * behind the disk.
   */
  blockingReads?: boolean;
}

/** Stores the tree under a local directory; atomic writes are a temp file in the staging directory, then a rename into place. */
export class FsDriver implements Driver {
  readonly root: string;
  private readonly directWrites: boolean;
  private readonly blockingReads: boolean;
  private readonly staging: string;

  constructor(root: string, options: FsDriverOptions = {}) {
    this.root = resolve(root);
    this.directWrites = options.directWrites ?? true;
    this.blockingReads = options.blockingReads ?? false;
    this.staging = join(this.root, paths.staging);
  }

  /** Moves a finished temp file to `full`, making its directory where gc pruned it; the temp goes on failure. */
  private async place(temp: string, full: string): Promise<void> {
    try {
      await inDirectory(dirname(full), () => rename(temp, full));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  get location(): string {
    return this.root;
  }

  private full(path: string): string {
    return join(this.root, path);
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const info = this.blockingReads ? statSync(this.full(path)) : await stat(this.full(path));
      return { size: info.size, modified: info.mtime };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return this.blockingReads ? readFileSync(this.full(path)) : await readWhole(this.full(path));
    } catch (error) {
      if (isNotFound(error)) throw new PathNotFoundError(path);
      throw error;
    }
  }

  async putContent(path: string, content: Buffer | string): Promise<void> {
    const temp = tempPathIn(this.staging);
    try {
      await inDirectory(this.staging, () => writeFile(temp, content, { flush: true }));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await this.place(temp, this.full(path));
  }

  async reader(path: string, range?: ByteRange): Promise<Readable> {
    const full = this.full(path);
    if (range && range.end <= range.start) {
      if (!(await this.stat(path))) throw new PathNotFoundError(path);
      return Readable.from([]);
    }
    // A numeric descriptor reads through libuv directly; a FileHandle costs a promise per chunk.
    const fd = await openDescriptor(full, 'r').catch((error: unknown) => {
      throw isNotFound(error) ? new PathNotFoundError(path) : error;
    });
    const stream = createReadStream(full, {
      fd,
      highWaterMark: READ_BUFFER,
      ...(range ? { start: range.start, end: range.end - 1 } : {}),
    });
    return Object.assign(stream, { sendTo: (destination: Writable) => sendFile(stream, fd, range, destination) }) satisfies SendingReader;
  }

  async write(path: string, source: Readable): Promise<number> {
    const temp = tempPathIn(this.staging);
    const handle = await inDirectory(this.staging, () => open(temp, 'w'));
    // Uploads in one request come here: as with appends, each chunk is copied into the sink's slices as it arrives, and bypasses the page cache.
    const direct = this.directWrites ? await DirectSink.open(temp, handle.fd, 0, chunksHandedOver(source)) : undefined;
    const sink = direct ?? handle.createWriteStream({ highWaterMark: WRITE_BUFFER, flush: true });
    try {
      await pipeline(source, sink);
      if (direct) await handle.datasync();
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    } finally {
      if (direct) {
        // A failed pipeline does not wait for the sink to close, and until then it may still write to the file.
        if (!direct.closed) await new Promise((closed) => direct.once('close', closed));
        await handle.close();
      }
    }
    await this.place(temp, this.full(path));
    return sink.bytesWritten;
  }

  append(path: string, source: Readable, offset: number): Promise<number> {
    const full = this.full(path);
    const size = () =>
      stat(full).then(
        (info) => info.size,
        () => 0,
      );
    return appendAlone(full, path, offset, source, size, () => this.appendAt(full, path, source, offset));
  }

  private async appendAt(full: string, path: string, source: Readable, offset: number): Promise<number> {
    // Never O_APPEND: positional writes must land where they say.
    const handle = await inDirectory(dirname(full), () => open(full, offset === 0 ? constants.O_RDWR | constants.O_CREAT : 'r+')).catch((error: unknown) => {
      throw isNotFound(error) ? new OffsetMismatchError(path, offset, 0) : error;
    });
    const size = (await handle.stat()).size;
    if (size !== offset) {
      await handle.close();
      source.resume();
      throw new OffsetMismatchError(path, offset, size);
    }
    const direct = this.directWrites ? await DirectSink.open(full, handle.fd, offset, chunksHandedOver(source)) : undefined;
    // Through the handle, not its number: a stream destroyed midway closes what it writes to, and a
    // bare number closed twice could by then be another request's file or socket.
    const sink = direct ?? handle.createWriteStream({ start: offset, highWaterMark: WRITE_BUFFER, autoClose: false });
    // Also with a direct sink: it falls back to the page cache when slices run out or a direct
    // write fails, and then a large upload must not leave all its flushing to the commit.
    const backgroundSync = syncWhileWriting(handle, source, offset);
    try {
      await pipeline(source, sink);
    } finally {
      // A pipeline that failed does not wait for the sink to close, and closing is when a direct
      // sink writes out the bytes that arrived before an upload was cut off.
      if (direct && !direct.closed) await new Promise((closed) => direct.once('close', closed));
      // A FileHandle's stream holds a reference to it until destroyed: left alone, handle.close()
      // never settled and every upload through the page cache kept its descriptor until GC.
      if (!direct) sink.destroy();
      // The request need not wait for a flush in flight: the handle closes once it is done.
      void backgroundSync().finally(() => handle.close().catch(() => undefined));
    }
    return offset + sink.bytesWritten;
  }

  async list(path: string): Promise<string[]> {
    try {
      const names = this.blockingReads ? readdirSync(this.full(path)) : await listNames(this.full(path));
      return names.filter((name) => !isTempName(name));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  async move(from: string, to: string): Promise<void> {
    const target = this.full(to);
    try {
      await datasync(this.full(from));
      await inDirectory(dirname(target), () => rename(this.full(from), target));
    } catch (error) {
      if (isNotFound(error)) throw new PathNotFoundError(from);
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    await rm(this.full(path), { recursive: true, force: true });
  }

  async pruneEmpty(path: string): Promise<void> {
    try {
      await rmdir(this.full(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  }

  /** Temp files of atomic writes a dead process never renamed into place (fs-temp-files.ts). */
  /** Every unfinished write is in the staging directory, whatever its target: that one directory is purged for any `path`. */
  purgeStale(_path: string, olderThan: Date, options?: PurgeOptions): Promise<StaleWrites> {
    return purgeStaleTemps(this.staging, olderThan, options);
  }

  async check(): Promise<void> {
    await makeDirectory(this.root);
    try {
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(`storage directory ${this.root} is not readable and writable`);
    }
  }
}
