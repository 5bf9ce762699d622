import { Transform, type Readable } from 'node:stream';
import { StorageUnavailableError, type ByteRange, type Driver, type FileInfo } from '../../storage/driver.ts';

/** The driver calls a fault can be injected into. */
export type Operation = 'stat' | 'getContent' | 'putContent' | 'reader' | 'write' | 'append' | 'list' | 'move' | 'delete';

/**
 * What goes wrong: a full disk, a failing disk, an S3 answer of 503 SlowDown after the SDK's retries
 * (the S3 driver turns those into StorageUnavailableError), or a storage connection reset.
 */
export type Fault = 'ENOSPC' | 'EIO' | 'SlowDown' | 'ECONNRESET';

export const FAULTS: Fault[] = ['ENOSPC', 'EIO', 'SlowDown', 'ECONNRESET'];

interface Rule {
  operation: Operation;
  fault: Fault;
  /** Only paths containing this. */
  pathIncludes?: string;
  /** Matching calls to let through before failing. */
  skip: number;
}

/** Writes fail after this many bytes went through, so that a partial write is left to clean up. */
const BYTES_BEFORE_FAULT = 64 * 1024;

function errorOf(fault: Fault, operation: Operation, path: string): Error {
  if (fault === 'SlowDown') return new StorageUnavailableError(`S3 failed: SlowDown (injected into ${operation} ${path})`);
  return Object.assign(new Error(`${fault}: injected into ${operation} ${path}`), { code: fault });
}

/** Passes bytes on until `limit`, then fails the stream with `error`. */
function failingAfter(source: Readable, limit: number, error: Error): Readable {
  let passed = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (passed + chunk.length <= limit) {
        passed += chunk.length;
        callback(null, chunk);
        return;
      }
      const head = chunk.subarray(0, limit - passed);
      passed = limit;
      if (head.length > 0) this.push(head);
      callback(error);
    },
    flush(callback) {
      callback(passed >= limit ? error : null);
    },
  });
  source.on('error', (cause) => cut.destroy(cause));
  return source.pipe(cut);
}

/**
 * A driver that fails chosen operations, for tests: everything else goes to `inner`. Writes and
 * appends fail midway through their bytes; other calls fail before reaching storage.
 */
export class FaultyDriver implements Driver {
  private rules: Rule[] = [];
  readonly location: string;

  constructor(private readonly inner: Driver) {
    this.location = inner.location;
  }

  /** Fails the matching calls after `skip` of them went through, until `clear`. */
  inject(operation: Operation, fault: Fault, options: { pathIncludes?: string; skip?: number } = {}): void {
    this.rules.push({ operation, fault, pathIncludes: options.pathIncludes, skip: options.skip ?? 0 });
  }

  clear(): void {
    this.rules = [];
  }

  private fault(operation: Operation, path: string): Error | undefined {
    const rule = this.rules.find((r) => r.operation === operation && (r.pathIncludes === undefined || path.includes(r.pathIncludes)));
    if (!rule) return undefined;
    if (rule.skip > 0) {
      rule.skip -= 1;
      return undefined;
    }
    return errorOf(rule.fault, operation, path);
  }

  private async guarded<T>(operation: Operation, path: string, call: () => Promise<T>): Promise<T> {
    const error = this.fault(operation, path);
    if (error) throw error;
    return call();
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.guarded('stat', path, () => this.inner.stat(path));
  }

  getContent(path: string): Promise<Buffer> {
    return this.guarded('getContent', path, () => this.inner.getContent(path));
  }

  putContent(path: string, content: Buffer | string): Promise<void> {
    return this.guarded('putContent', path, () => this.inner.putContent(path, content));
  }

  reader(path: string, range?: ByteRange): Promise<Readable> {
    return this.guarded('reader', path, () => this.inner.reader(path, range));
  }

  write(path: string, source: Readable): Promise<number> {
    const error = this.fault('write', path);
    return this.inner.write(path, error ? failingAfter(source, BYTES_BEFORE_FAULT, error) : source);
  }

  append(path: string, source: Readable, offset: number): Promise<number> {
    const error = this.fault('append', path);
    return this.inner.append(path, error ? failingAfter(source, BYTES_BEFORE_FAULT, error) : source, offset);
  }

  list(path: string): Promise<string[]> {
    return this.guarded('list', path, () => this.inner.list(path));
  }

  move(from: string, to: string): Promise<void> {
    return this.guarded('move', `${from} -> ${to}`, () => this.inner.move(from, to));
  }

  delete(path: string): Promise<void> {
    return this.guarded('delete', path, () => this.inner.delete(path));
  }

  pruneEmpty(path: string): Promise<void> {
    return this.inner.pruneEmpty?.(path) ?? Promise.resolve();
  }

  check(): Promise<void> {
    return this.inner.check();
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
