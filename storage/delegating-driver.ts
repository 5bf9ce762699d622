import type { Readable } from 'node:stream';
import type { ByteRange, Driver, FileInfo } from './driver.ts';

/**
 * A driver that hands every call to `inner`: the base of a driver that changes a few calls of any
 * backend's (LinkCache; tests' faulty drivers). It offers an optional call only where `inner` does,
 * as callers look for them.
 */
export class DelegatingDriver implements Driver {
  readonly location: string;
  readonly listCommonPrefixes?: Driver['listCommonPrefixes'];
  readonly pruneEmpty?: Driver['pruneEmpty'];
  readonly purgeStale?: Driver['purgeStale'];
  readonly redirectURL?: Driver['redirectURL'];

  constructor(protected readonly inner: Driver) {
    this.location = inner.location;
    if (inner.listCommonPrefixes) this.listCommonPrefixes = inner.listCommonPrefixes.bind(inner);
    if (inner.pruneEmpty) this.pruneEmpty = inner.pruneEmpty.bind(inner);
    if (inner.purgeStale) this.purgeStale = inner.purgeStale.bind(inner);
    if (inner.redirectURL) this.redirectURL = inner.redirectURL.bind(inner);
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.inner.stat(path);
  }

  getContent(path: string): Promise<Buffer> {
    return this.inner.getContent(path);
  }

  putContent(path: string, content: Buffer | string): Promise<void> {
    return this.inner.putContent(path, content);
  }

  reader(path: string, range?: ByteRange): Promise<Readable> {
    return this.inner.reader(path, range);
  }

  write(path: string, source: Readable): Promise<number> {
    return this.inner.write(path, source);
  }

  append(path: string, source: Readable, offset: number): Promise<number> {
    return this.inner.append(path, source, offset);
  }

  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }

  move(from: string, to: string): Promise<void> {
    return this.inner.move(from, to);
  }

  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }

  check(): Promise<void> {
    return this.inner.check();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
