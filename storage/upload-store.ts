import { createHash, randomUUID, type Hash } from 'node:crypto';
import { finished, PassThrough, type Readable, type Transform } from 'node:stream';
import { Digest, DigestingStream, DigestMismatchError, type DigestAlgorithm } from '../oci/digest.ts';
import type { BlobStore } from './blob-store.ts';
import { chunksHandedOver, handOverChunks } from './chunk-ownership.ts';
import { PathNotFoundError, type Driver, type FileInfo } from './driver.ts';
import { UploadUnknownError } from './errors.ts';
import type { LocalCopies, UploadCopy } from './local-copies.ts';
import { paths } from './paths.ts';
import { RecentMap } from './recent-map.ts';
import type { RepositoryStore } from './repository-store.ts';

export interface UploadStatus {
  id: string;
  /** Bytes received so far. */
  offset: number;
}

interface UploadState {
  algorithm: DigestAlgorithm;
}

/** A running hash of an upload's first `offset` bytes, kept between requests, and the local copy of the bytes it hashed. */
interface CachedHash {
  algorithm: DigestAlgorithm;
  offset: number;
  hash: Hash;
  copy: UploadCopy;
}

/** Enough for every upload a busy server has in flight; older ones just re-hash on commit. */
const MAX_CACHED_HASHES = 4096;

/**
 * Blob upload sessions, kept in storage (`_uploads/<id>/`) so that an upload survives a restart
 * and may continue on another process or replica. Bytes are hashed as they arrive; the running
 * hash is cached in this process, so committing does not re-read the data in the common case.
 * When another process appended a chunk (or an append failed midway) the cache is stale and the
 * commit re-hashes the data from storage instead.
 */
export class UploadStore {
  private readonly hashes = new RecentMap<string, CachedHash>(MAX_CACHED_HASHES);

  constructor(
    private readonly driver: Driver,
    private readonly blobs: BlobStore,
    private readonly repositories: RepositoryStore,
    private readonly copies: LocalCopies,
  ) {}

  async start(name: string, algorithm: DigestAlgorithm = 'sha256'): Promise<UploadStatus> {
    const id = randomUUID();
    const state: UploadState = { algorithm };
    await Promise.all([
      this.driver.putContent(paths.uploadStartedAt(name, id), new Date().toISOString()),
      this.driver.putContent(paths.uploadState(name, id), JSON.stringify(state)),
    ]);
    this.hashes.set(`${name}/${id}`, { algorithm, offset: 0, hash: createHash(algorithm), copy: this.copies.startUpload() });
    return { id, offset: 0 };
  }

  private async state(name: string, id: string): Promise<UploadState> {
    try {
      const state = JSON.parse((await this.driver.getContent(paths.uploadState(name, id))).toString()) as UploadState;
      return state;
    } catch (error) {
      if (error instanceof PathNotFoundError || error instanceof SyntaxError) {
        // A session Distribution started has only `startedat`: it hashes with sha256.
        if (await this.driver.stat(paths.uploadStartedAt(name, id))) return { algorithm: 'sha256' };
        throw new UploadUnknownError(id);
      }
      throw error;
    }
  }

  async status(name: string, id: string): Promise<UploadStatus> {
    const [, offset] = await Promise.all([this.state(name, id), this.size(name, id)]);
    return { id, offset };
  }

  private async size(name: string, id: string): Promise<number> {
    return (await this.driver.stat(paths.uploadData(name, id)))?.size ?? 0;
  }

  /**
   * Appends a chunk that must start at `start` (the current offset when undefined).
   * Returns the new offset; throws OffsetMismatchError when `start` is not the current offset.
   */
  async append(name: string, id: string, source: Readable, start?: number): Promise<UploadStatus> {
    const key = `${name}/${id}`;
    const known = this.hashes.get(key);
    const reading = this.state(name, id);
    // A chunk where this process left the upload (it started it, or took the chunk before): the
    // algorithm is known, and the state is read while the chunk goes instead of before.
    const ahead = start !== undefined && known?.offset === start;
    if (ahead) reading.catch(() => undefined);
    const [{ algorithm }, offset] = ahead ? [known, start] : await Promise.all([reading, start ?? this.size(name, id)]);
    const cached = this.hashes.get(key);
    this.hashes.delete(key);
    const continued = cached?.offset === offset && cached.algorithm === algorithm ? cached : undefined;
    // Without a hash of the earlier bytes there is nothing to continue: the commit re-hashes, and
    // no local copy is made, since it could not be checked.
    if (!continued) cached?.copy.drop();
    const hashed = continued ?? (offset === 0 ? { hash: createHash(algorithm), copy: this.copies.startUpload() } : undefined);
    const body = hashed ? hashed.copy.tee(offset, shielded(source, new DigestingStream(algorithm, hashed.hash))) : shielded(source, new PassThrough());
    let size: number;
    try {
      size = await this.driver.append(paths.uploadData(name, id), body, offset);
      await reading;
    } catch (error) {
      hashed?.copy.drop();
      // A chunk that went ahead into a session gone meanwhile (cancelled elsewhere) goes too.
      if (error instanceof UploadUnknownError) await this.driver.delete(paths.upload(name, id)).catch(() => undefined);
      throw error;
    }
    if (hashed) this.hashes.set(key, { algorithm, offset: size, hash: hashed.hash, copy: hashed.copy });
    return { id, offset: size };
  }

  /**
   * Finishes the upload: verifies that its bytes hash to `digest`, moves them into the blob
   * store (unless the blob is already there) and links the blob into the repository.
   */
  async complete(name: string, id: string, digest: Digest): Promise<FileInfo> {
    const [, size] = await Promise.all([this.state(name, id), this.size(name, id)]);
    const key = `${name}/${id}`;
    const cached = this.hashes.get(key);
    this.hashes.delete(key);
    const hashedHere = cached !== undefined && cached.offset === size && cached.algorithm === digest.algorithm;
    try {
      const actual = hashedHere ? Digest.fromHash(digest.algorithm, cached.hash) : await this.rehash(name, id, digest.algorithm, size);
      if (!actual.equals(digest)) throw new DigestMismatchError(digest, actual, `upload ${id}`);
      return await this.commit(name, id, digest, size, hashedHere ? cached.copy : undefined);
    } finally {
      // Kept, or else of an upload that failed or was hashed elsewhere.
      cached?.copy.drop();
    }
  }

  /** Moves an upload's verified bytes into the blob store (unless the blob is already there) and links the blob into the repository. */
  private async commit(name: string, id: string, digest: Digest, size: number, copy: UploadCopy | undefined): Promise<FileInfo> {
    // Link first, then look: a concurrent gc either sees the link and keeps the blob, or has
    // already taken it, and then this upload's own bytes take its place (storage/gc/gc.ts).
    await this.repositories.linkBlob(name, digest);
    const existing = await this.blobs.stat(digest);
    if (!existing) {
      if (size === 0) await this.driver.putContent(paths.uploadData(name, id), Buffer.alloc(0));
      await this.driver.move(paths.uploadData(name, id), paths.blobData(digest));
    }
    await this.driver.delete(paths.upload(name, id));
    // A push is often pulled right after (CI): its first download then opens the bytes at once,
    // from the local copy where this process copied every byte it hashed. A copy is checked by
    // the hash its bytes went through: only one made here can be kept.
    this.blobs.remember(digest, size);
    await copy?.keep(digest, size);
    return existing ?? { size, modified: new Date() };
  }

  /**
   * Streams a whole blob in one request (single POST or PUT with body) and commits it. Such an
   * upload is never resumed: its bytes go into one object, beside only the `startedat` that lets gc
   * purge them should this process die, and no session state is written or read back.
   */
  async ingest(name: string, source: Readable, digest: Digest): Promise<FileInfo> {
    const id = randomUUID();
    const hash = createHash(digest.algorithm);
    const copy = this.copies.startUpload();
    try {
      // Both settle before either failure is acted on: the session's removal below must not race a write still under way.
      const [written, started] = await Promise.allSettled([
        this.driver.write(paths.uploadData(name, id), copy.tee(0, shielded(source, new DigestingStream(digest.algorithm, hash)))),
        this.driver.putContent(paths.uploadStartedAt(name, id), new Date().toISOString()),
      ]);
      if (written.status === 'rejected') throw written.reason;
      if (started.status === 'rejected') throw started.reason;
      const size = written.value;
      const actual = Digest.fromHash(digest.algorithm, hash);
      if (!actual.equals(digest)) throw new DigestMismatchError(digest, actual, `upload ${id}`);
      return await this.commit(name, id, digest, size, copy);
    } catch (error) {
      await this.driver.delete(paths.upload(name, id)).catch(() => undefined);
      throw error;
    } finally {
      copy.drop();
    }
  }

  async cancel(name: string, id: string): Promise<void> {
    await this.state(name, id);
    this.hashes.get(`${name}/${id}`)?.copy.drop();
    this.hashes.delete(`${name}/${id}`);
    await this.driver.delete(paths.upload(name, id));
  }

  private async rehash(name: string, id: string, algorithm: DigestAlgorithm, size: number): Promise<Digest> {
    const hash = createHash(algorithm);
    if (size > 0) for await (const chunk of await this.driver.reader(paths.uploadData(name, id))) hash.update(chunk as Buffer);
    return Digest.fromHash(algorithm, hash);
  }
}

/**
 * The client's bytes through a stream of their own: a storage failure destroys `through`, not the
 * client's request, whose connection then still carries the error answer. A client that goes away
 * fails `through` in turn, so the write never waits for bytes that will not come. `through` (a hash
 * or a PassThrough) passes chunks on as they are and keeps none, so it hands over what `source` does.
 */
function shielded(source: Readable, through: Transform): Readable {
  finished(source, (error) => {
    if (error) through.destroy(error);
  });
  source.pipe(through);
  return chunksHandedOver(source) ? handOverChunks(through) : through;
}
