import { createClient, type RedisClientType } from '@redis/client';
import { DelegatingDriver } from './delegating-driver.ts';
import type { Driver, FileInfo } from './driver.ts';

/**
 * How long an entry lives: what changes behind Berth's back (a hand edit, another program on the
 * bucket, a berth command run without the setting) shows within this. Berth's own changes show at once.
 */
const ENTRY_TTL_MS = 60_000;

/** How long a Redis command may take before a read goes to storage instead (or a change fails): a healthy one answers in a millisecond. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;

/** How long the version of an entry lives once changed: far longer than any read of storage. */
const VERSION_TTL_MS = 24 * 60 * 60_000;

/** What is worth caching: whether a link or a blob is there (stat), and what a tag names (content). */
const STAT_CACHED = /(?:\/_layers\/[^/]+\/[^/]+\/link|\/_manifests\/revisions\/[^/]+\/[^/]+\/link|\/blobs\/[^/]+\/[^/]+\/[^/]+\/data)$/;
const CONTENT_CACHED = /\/_manifests\/tags\/[^/]+\/current\/link$/;
/** Directories that hold at most one cached path, named below. */
const LEAF_DIRECTORY = /(?:\/_layers\/[^/]+\/[^/]+|\/_manifests\/revisions\/[^/]+\/[^/]+|\/_manifests\/tags\/[^/]+|\/blobs\/[^/]+\/[^/]+\/[^/]+)$/;
/** Directories that hold nothing cached. */
const UNCACHED_DIRECTORY = /\/(?:_uploads|_berth)(?:\/|$)/;

/**
 * Fills an entry only if it is still at the version read before storage was: a read that saw storage
 * before a change and came back after the change cleared the entry would bring the old state back.
 */
const FILL = `local version = redis.call('GET', KEYS[2])
if (version == false and ARGV[3] == '') or version == ARGV[3] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0`;

/** An entry's value (if cached) and its version ('' for none), read at once. */
interface Lookup {
  value?: string;
  version: string;
}

/**
 * Link and blob lookups shared by every replica through Redis (storage.s3.redis): a blob HEAD, a tag
 * push's checks and a manifest GET by tag ask Redis instead of the bucket, and stay right across
 * replicas because every change through Berth (any replica, gc, retention) passes here and clears
 * what it touched before it answers. Only what storage holds is cached, never its absence, so a push
 * through one replica shows on all at once too. Redis failing on a read costs a read of storage; on a
 * change, the change's error (the entries it could not clear expire within ENTRY_TTL_MS). Writes,
 * appends, reads and listings pass straight through: what is written is there, so an entry saying so
 * stays right.
 */
export class LinkCache extends DelegatingDriver {
  private constructor(
    inner: Driver,
    private readonly redis: RedisClientType,
    private readonly prefix: string,
  ) {
    super(inner);
  }

  /** Wraps `inner` with the Redis server at `url`, its keys named after the storage location. */
  static async open(inner: Driver, url: string): Promise<LinkCache> {
    let ready = false;
    // Once connected, a lost connection is tried again (meanwhile reads go to storage); a first connection that fails is an error.
    const reconnectStrategy = (retries: number, cause: Error) => (ready ? Math.min(50 * retries, 2000) : cause);
    // A Redis that hangs instead of hanging up must not hold requests: its answers are given up on, sent or not.
    const commandOptions = { timeout: REDIS_COMMAND_TIMEOUT_MS, rejectInFlight: true };
    const redis = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy }, commandOptions });
    // Errors reach the calls that meet them.
    redis.on('error', () => undefined);
    redis.on('ready', () => (ready = true));
    await redis.connect().catch((error: unknown) => {
      throw new Error(`storage.s3.redis: cannot reach ${url}: ${(error as Error).message}`);
    });
    return new LinkCache(inner, redis, `berth:${inner.location}:`);
  }

  private key(path: string): string {
    return `${this.prefix}${path}`;
  }

  /** The entry of `path`; undefined when Redis does not answer (storage is read, nothing filled). */
  private async lookup(path: string): Promise<Lookup | undefined> {
    try {
      const [value, version] = await this.redis.mGet([this.key(path), `${this.key(path)}#v`]);
      return { ...(value ? { value } : {}), version: version ?? '' };
    } catch {
      return undefined;
    }
  }

  private async fill(path: string, value: string, seen: Lookup | undefined): Promise<void> {
    if (!seen) return;
    await this.redis
      .eval(FILL, { keys: [this.key(path), `${this.key(path)}#v`], arguments: [value, String(ENTRY_TTL_MS), seen.version] })
      .catch(() => undefined);
  }

  /** Clears the entries of `paths` and moves their versions on, so that no read begun before fills them. */
  private async clear(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    const transaction = this.redis.multi();
    for (const path of paths)
      transaction
        .del(this.key(path))
        .incr(`${this.key(path)}#v`)
        .pExpire(`${this.key(path)}#v`, VERSION_TTL_MS);
    await transaction.exec();
  }

  /** The cached paths a change at `path` (an object, or everything under a directory) may touch. */
  private async touched(path: string): Promise<string[]> {
    if (STAT_CACHED.test(path) || CONTENT_CACHED.test(path)) return [path];
    if (UNCACHED_DIRECTORY.test(path)) return [];
    if (LEAF_DIRECTORY.test(path)) return [`${path}/link`, `${path}/current/link`, `${path}/data`];
    // A repository or more at once (rare): every entry below it.
    const below: string[] = [];
    for await (const keys of this.redis.scanIterator({ MATCH: `${this.key(path)}/*`, COUNT: 1000 })) {
      for (const key of keys) if (!key.endsWith('#v')) below.push(key.slice(this.prefix.length));
    }
    return below;
  }

  private async change<T>(paths: string[], action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } finally {
      await this.clear((await Promise.all(paths.map((path) => this.touched(path)))).flat());
    }
  }

  override async stat(path: string): Promise<FileInfo | undefined> {
    if (!STAT_CACHED.test(path)) return this.inner.stat(path);
    const seen = await this.lookup(path);
    if (seen?.value) {
      const { size, modified } = JSON.parse(seen.value) as { size: number; modified: string };
      return { size, modified: new Date(modified) };
    }
    const info = await this.inner.stat(path);
    if (info) await this.fill(path, JSON.stringify(info), seen);
    return info;
  }

  override async getContent(path: string): Promise<Buffer> {
    if (!CONTENT_CACHED.test(path)) return this.inner.getContent(path);
    const seen = await this.lookup(path);
    if (seen?.value !== undefined) return Buffer.from(seen.value);
    const content = await this.inner.getContent(path);
    await this.fill(path, content.toString('utf8'), seen);
    return content;
  }

  /**
   * A link written is there: the writer fills its entry (the process that made the change knows it),
   * unless a change cleared it since the writer looked, before writing. A tag's new content clears
   * what readers had.
   */
  override async putContent(path: string, content: Buffer | string): Promise<void> {
    if (!STAT_CACHED.test(path)) return this.change([path], () => this.inner.putContent(path, content));
    const seen = await this.lookup(path);
    await this.inner.putContent(path, content);
    await this.fill(path, JSON.stringify({ size: Buffer.byteLength(content), modified: new Date() }), seen);
  }

  /** What moved away is gone; an entry saying the destination is there stays right. */
  override move(from: string, to: string): Promise<void> {
    return this.change([from], () => this.inner.move(from, to));
  }

  override delete(path: string): Promise<void> {
    return this.change([path], () => this.inner.delete(path));
  }

  override async check(): Promise<void> {
    await Promise.all([this.inner.check(), this.redis.ping()]);
  }

  override async close(): Promise<void> {
    this.redis.destroy();
    await this.inner.close?.();
  }
}
