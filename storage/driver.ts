import type { Readable, Writable } from 'node:stream';

/** Metadata of one stored object. */
export interface FileInfo {
  size: number;
  modified: Date;
}

/** An inclusive-exclusive byte range: bytes `start` up to (not including) `end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A reader that can also write its bytes into a destination itself, through buffers it reuses:
 * no allocation per slice, so serving large blobs leaves the garbage collector nothing to do.
 */
export interface SendingReader extends Readable {
  /** Writes every byte into `destination`, ends it, and closes the reader. */
  sendTo(destination: Writable): Promise<void>;
}

export function canSend(reader: Readable): reader is SendingReader {
  return typeof (reader as Partial<SendingReader>).sendTo === 'function';
}

/** Raised by a driver when a path does not exist. */
export class PathNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
  }
}

/** What `reading` reads, or undefined where storage lacks it; any other failure stays one. */
export async function unlessMissing<T>(reading: Promise<T>): Promise<T | undefined> {
  try {
    return await reading;
  } catch (error) {
    if (error instanceof PathNotFoundError) return undefined;
    throw error;
  }
}

/** Raised by `append` when the upload's current size is not the offset the caller expected. */
export class OffsetMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`append to ${path} at offset ${expected}, but it holds ${actual} bytes`);
  }
}

/**
 * Raised by `append` while another append to the same upload is under way: of appends at one
 * offset, only one may write. The size is what the upload held when this one was refused.
 */
export class AppendUnderWayError extends OffsetMismatchError {
  constructor(path: string, expected: number, actual: number) {
    super(path, expected, actual);
    this.message = `append to ${path} at offset ${expected} while another append to it is under way (it holds ${actual} bytes so far)`;
  }
}

/** Raised when the storage backend cannot be reached or refuses service (answered as 503). */
export class StorageUnavailableError extends Error {}

/**
 * What writes that never finished left behind (a process killed mid-write): temp files on disk,
 * incomplete multipart uploads in S3. Readers never see them, but they hold space until purged.
 */
export interface StaleWrites {
  count: number;
  bytes: number;
}

export interface PurgeOptions {
  /** Count what would go, remove nothing. */
  dryRun?: boolean;
  /** Stops the purge early (a time budget): it then resolves with what it got through. */
  signal?: AbortSignal;
}

/**
 * The storage backend: a tree of objects addressed by slash-separated paths relative to the
 * registry root (`docker/registry/v2/...`). Everything above a driver is backend-agnostic.
 *
 * Paths never start with a slash and never contain `.` or `..` segments; callers build them
 * from validated names only (see paths.ts).
 */
export interface Driver {
  /** Human-readable location, e.g. `/srv/registry` or `s3://bucket/prefix`. */
  readonly location: string;

  /**
   * Size and modification time, or undefined when the path holds no object. For an object
   * `append` wrote, the bytes appended so far and the time of the last append.
   */
  stat(path: string): Promise<FileInfo | undefined>;

  /** The whole content of a small object (links, manifests). Throws PathNotFoundError. */
  getContent(path: string): Promise<Buffer>;

  /** Writes a small object atomically: readers see the old or the new content, never a mix. */
  putContent(path: string, content: Buffer | string): Promise<void>;

  /** Streams an object, or the given byte range of it. Throws PathNotFoundError. */
  reader(path: string, range?: ByteRange): Promise<Readable>;

  /**
   * Streams `source` into an object that becomes visible only once complete (temp + rename,
   * or a multipart upload). Returns the byte count. On error nothing is left at `path`.
   */
  write(path: string, source: Readable): Promise<number>;

  /**
   * Appends `source` to an upload's data (`…/_uploads/<id>/data`, see `paths.isUploadData`: an
   * object store looks for appended parts there only) that currently holds exactly `offset` bytes
   * (0 creates it); throws OffsetMismatchError otherwise, and AppendUnderWayError (one) while
   * another append to it runs in this process, so that of concurrent appends at one offset only one
   * writes. Returns the new size. Appended objects may be readable only through `stat`, `reader`,
   * `move` and `delete`: they are upload scratch.
   */
  append(path: string, source: Readable, offset: number): Promise<number>;

  /** Names of the direct children of a directory-like prefix; [] when there are none. */
  list(path: string): Promise<string[]>;

  /**
   * Moves an object (or a finished append object) to `to`, replacing what was there. Appended
   * bytes may sit in a cache until then; once the move resolves they are durable.
   */
  move(from: string, to: string): Promise<void>;

  /** Deletes an object or everything under a prefix; deleting nothing is not an error. */
  delete(path: string): Promise<void>;

  /**
   * Object stores: the distinct key prefixes under `path` up to the first `delimiter`, without
   * `path/` and the delimiter — one listing request per thousand, whatever lies below them.
   */
  listCommonPrefixes?(path: string, delimiter: string): Promise<string[]>;

  /**
   * Removes a directory only if it is empty, atomically against a concurrent write into it.
   * Object stores have no directories and leave this out.
   */
  pruneEmpty?(path: string): Promise<void>;

  /**
   * Removes the leftovers of unfinished writes under `path` that nothing has touched since
   * `olderThan`: a write still in progress keeps touching them, so only dead ones go. A driver
   * whose writes leave nothing behind leaves this out.
   */
  purgeStale?(path: string, olderThan: Date, options?: PurgeOptions): Promise<StaleWrites>;

  /** A URL from which a client may fetch the object directly (S3 presigned), if enabled. */
  redirectURL?(path: string): Promise<string | undefined>;

  /** Confirms the backend is reachable and usable; throws a one-line error otherwise. */
  check(): Promise<void>;

  /** Releases sockets and handles. */
  close?(): Promise<void>;
}
