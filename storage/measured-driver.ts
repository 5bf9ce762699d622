import { OffsetMismatchError, PathNotFoundError, type Driver } from './driver.ts';

/** The driver calls a `MeasuredDriver` reports, one name each. */
export type DriverAction =
  | 'stat'
  | 'get_content'
  | 'put_content'
  | 'reader'
  | 'write'
  | 'append'
  | 'list'
  | 'move'
  | 'delete'
  | 'list_common_prefixes'
  | 'prune_empty'
  | 'purge_stale'
  | 'redirect_url';

/**
 * Where a `MeasuredDriver` reports: the registry's metrics implement it, so storage/ names no
 * metrics library and imports nothing from above.
 */
export interface StorageMeter {
  /** One driver call settled after `seconds`; `failed` when it threw (a missing path or an upload's wrong offset is an answer, not a failure). */
  observe(driver: string, action: DriverAction, seconds: number, failed: boolean): void;
}

/**
 * Wraps `inner` so each call is timed and reported to `meter`. Optional methods stay optional
 * (callers test for them), so the wrapper is a plain object with exactly the inner driver's methods.
 * For `reader` the time is that of opening the stream, not of reading it: a download's length is
 * the client's pace.
 */
export function measureDriver(inner: Driver, meter: StorageMeter): Driver {
  const kind = inner.location.startsWith('s3://') ? 's3' : 'fs';
  // Argument order starts the clock before the call: `now()` is evaluated before `promise`'s call.
  const track = <T>(action: DriverAction, start: number, promise: Promise<T>): Promise<T> =>
    promise.then(
      (value) => {
        meter.observe(kind, action, (performance.now() - start) / 1000, false);
        return value;
      },
      (error: unknown) => {
        meter.observe(kind, action, (performance.now() - start) / 1000, !(error instanceof PathNotFoundError || error instanceof OffsetMismatchError));
        throw error;
      },
    );
  const now = () => performance.now();
  const driver: Driver = {
    location: inner.location,
    stat: (path) => track('stat', now(), inner.stat(path)),
    getContent: (path) => track('get_content', now(), inner.getContent(path)),
    putContent: (path, content) => track('put_content', now(), inner.putContent(path, content)),
    reader: (path, range) => track('reader', now(), inner.reader(path, range)),
    write: (path, source) => track('write', now(), inner.write(path, source)),
    append: (path, source, offset) => track('append', now(), inner.append(path, source, offset)),
    list: (path) => track('list', now(), inner.list(path)),
    move: (from, to) => track('move', now(), inner.move(from, to)),
    delete: (path) => track('delete', now(), inner.delete(path)),
    // The health check and close are not storage traffic: passed through unmeasured.
    check: () => inner.check(),
  };
  if (inner.listCommonPrefixes) {
    const list = inner.listCommonPrefixes.bind(inner);
    driver.listCommonPrefixes = (path, delimiter) => track('list_common_prefixes', now(), list(path, delimiter));
  }
  if (inner.pruneEmpty) {
    const prune = inner.pruneEmpty.bind(inner);
    driver.pruneEmpty = (path) => track('prune_empty', now(), prune(path));
  }
  if (inner.purgeStale) {
    const purge = inner.purgeStale.bind(inner);
    driver.purgeStale = (path, olderThan, options) => track('purge_stale', now(), purge(path, olderThan, options));
  }
  if (inner.redirectURL) {
    const redirect = inner.redirectURL.bind(inner);
    driver.redirectURL = (path) => track('redirect_url', now(), redirect(path));
  }
  if (inner.close) driver.close = inner.close.bind(inner);
  return driver;
}
