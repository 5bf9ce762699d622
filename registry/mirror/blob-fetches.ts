import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { Digest, DigestMismatchError } from '../../oci/digest.ts';
import type { Store } from '../../storage/store.ts';
import type { FetchLocks } from './fetch-locks.ts';
import type { MirrorTarget } from './routing.ts';
import { UpstreamFault } from './upstream-failure.ts';

/** How a fill ended: the bytes went to the caller's client as they arrived, or they are in the store for the route to serve. */
export type FillOutcome = 'sent' | 'stored';

/**
 * Blobs fetched from upstreams into the store, each once however many ask at a time: requests in
 * this process share one fetch, and processes on this machine take turns on its lock, finding the
 * blob stored when their turn comes. The fetch streams into an upload of the store, which hashes
 * as bytes flow and commits only a blob that matches its digest; the client that started the
 * fetch gets the bytes as they arrive, hashed on their way too, all but the last chunk, which goes
 * once the whole matches the digest: no client sees a whole body of the wrong content, and none
 * waits for the store to make the blob durable. A client that hangs up leaves the fetch running.
 */
export class BlobFetches {
  private readonly running = new Map<string, Promise<FillOutcome>>();

  constructor(
    private readonly store: Store,
    private readonly locks: FetchLocks,
  ) {}

  /**
   * Makes sure the blob is stored and linked into the target's repository. With `client`, a fetch
   * started by this call sends it the bytes (outcome 'sent': answered); any other outcome leaves
   * the response to the route.
   */
  async fill(target: MirrorTarget, digest: Digest, client?: Response, retry = true): Promise<FillOutcome> {
    const key = digest.toString();
    const joined = this.running.get(key);
    if (joined) {
      // A fetch that fails does not fail those who joined it: they try once themselves (it may have
      // been ending when they came, or failed for its own client's sake).
      const ended = await joined.then(
        () => true,
        (error: unknown) => {
          if (!retry) throw error;
          return false;
        },
      );
      if (!ended) return this.fill(target, digest, client, false);
    } else {
      const fetch = this.fetch(target, digest, client);
      this.running.set(key, fetch);
      // Only its own entry: a fetch started after this one left the list may be there by now.
      const forget = () => this.running.get(key) === fetch && this.running.delete(key);
      fetch.then(forget, forget);
      if ((await fetch) === 'sent') return 'sent';
    }
    // Fetched for another repository, or by another process: the bytes are shared, the link is this repository's.
    await this.store.repositories.linkBlob(target.local, digest);
    return 'stored';
  }

  private async stored(digest: Digest): Promise<boolean> {
    return (await this.store.blobs.stat(digest)) !== undefined;
  }

  private async fetch(target: MirrorTarget, digest: Digest, client?: Response): Promise<FillOutcome> {
    const release = await this.locks.lead(digest, () => this.stored(digest));
    if (!release) return 'stored';
    try {
      if (await this.stored(digest)) return 'stored';
      const { size, body } = await target.upstream.openBlob(target.remote, digest);
      // Both readers attached before a byte flows: the store's, and the client's if there is one.
      const toStore = new PassThrough();
      let broken: UpstreamFault | undefined;
      body.pipe(toStore);
      body.once('error', (error) => {
        broken = new UpstreamFault(error);
        toStore.destroy(broken);
      });
      const committed = this.store.uploads.ingest(target.local, toStore, digest);
      if (client) send(client, digest, size, body);
      // A write that failed because the body broke off is the upstream's failure, not the store's.
      await committed.catch((error: unknown) => {
        throw broken ?? error;
      });
      return client ? 'sent' : 'stored';
    } finally {
      // Off the list before the lock goes: a request arriving while it is released must start a
      // fetch of its own, not join this one, which has ended (a failed one would fail it too).
      this.running.delete(digest.toString());
      await release();
    }
  }
}

/** Sends `body` to the client as it streams, its last chunk only once the whole matches `digest`; a client gone is let go. */
function send(client: Response, digest: Digest, size: number | undefined, body: Readable): void {
  client.writeHead(200, {
    'Docker-Content-Digest': `${digest}`,
    'Content-Type': 'application/octet-stream',
    ETag: `"${digest}"`,
    ...(size !== undefined ? { 'Content-Length': size } : {}),
  });
  const withheld = lastChunkIfMatching(digest);
  body.pipe(withheld).pipe(client);
  body.once('error', (error) => withheld.destroy(error));
  withheld.once('error', () => client.destroy());
  client.once('close', () => {
    if (client.writableFinished) return;
    // The store's reader keeps the upstream flowing: this one must not hold it back.
    body.unpipe(withheld);
    withheld.destroy();
  });
}

/** Passes chunks on one behind, hashing them, and the last one only if the whole hashes to `digest`; fails otherwise. */
function lastChunkIfMatching(digest: Digest): Transform {
  const hash = createHash(digest.algorithm);
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      const actual = Digest.fromHash(digest.algorithm, hash);
      if (!actual.equals(digest)) return done(new DigestMismatchError(digest, actual, 'upstream blob'));
      done(null, held);
    },
  });
}
