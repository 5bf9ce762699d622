import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { StorageUnavailableError, type ByteRange, type FileInfo } from '../../driver.ts';
import { keyPageOf, type KeyPage } from './key-page.ts';
import { PartBudget } from './part-budget.ts';
import { RoundTripTime } from './round-trip-time.ts';
import { DirectObjectReader } from './s3-direct-reader.ts';
import { countRetries } from './s3-retries.ts';
import { SignedRequests } from './s3-signed-requests.ts';

/** Where and how to reach the bucket: the `storage.s3` config section over AWS environment variables. */
export interface S3Settings {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  /** Bucket in the path, not the host name: what MinIO, Ceph RGW and Swift expect. */
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Answer blob GETs with 307 to a presigned URL, so bytes flow from S3 to the client. */
  redirect: boolean;
  /**
   * Berth's speed-ups over the plain AWS SDK (on unless `storage.s3.fastPaths: false`): HEADs, small
   * GETs and presigned URLs it signs itself, large ranges spliced from connections of their own, and
   * concurrent reads of one key sharing a request. Off, every call goes through the SDK's client.
   */
  fastPaths: boolean;
  /** Bytes of one part of a transfer: a multipart upload's part, a parallel read's range. */
  partSize: number;
  /** Parts of one transfer in flight at once. */
  parallelParts: number;
}

/**
 * A bucket whose small requests (HEADs, links) take this long at best is across a network, where one connection carries
 * some 80–100 MB/s and parallel parts pay; nearer (the same host, a LAN), one GET is faster, spliced
 * on plain HTTP, and parallel parts only cost CPU.
 */
const ACROSS_NETWORK_MS = 3;
/** Memory for parts the process holds beyond each transfer's first, reads and uploads together. */
const PARTS_MEMORY = 128 * 1024 * 1024;
const PRESIGN_SECONDS = 20 * 60;
const REQUEST_TIMEOUT = 60_000;

export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404 || (error as Error).name === 'NoSuchKey' || (error as Error).name === 'NotFound';
}

/**
 * The bucket as the S3 driver and its helpers (copies, upload segments, the purge of abandoned
 * multipart uploads) share it: the SDK client, the settings, and object operations by key. Keys
 * are paths under the configured prefix (`key`); paths, and what they mean, are the driver's.
 */
export class S3Bucket {
  readonly client: S3Client;
  /** Shared by every transfer of the process: many at once share the speed-up instead of multiplying the memory. */
  readonly parts: PartBudget;
  private readonly roundTrips = new RoundTripTime();
  /** Requests Berth signs itself; none with the fast paths off. */
  private readonly signed: SignedRequests | undefined;

  constructor(readonly settings: S3Settings) {
    this.parts = new PartBudget(Math.floor(PARTS_MEMORY / settings.partSize));
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.accessKeyId && settings.secretAccessKey
        ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
        : {}),
      // aws-chunked bodies with trailing checksums are mangled by several S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5000, requestTimeout: REQUEST_TIMEOUT },
    });
    countRetries(this.client);
    this.signed = settings.fastPaths ? new SignedRequests(this.client, settings.bucket) : undefined;
  }

  key(path: string): string {
    return this.settings.prefix ? `${this.settings.prefix}/${path}` : path;
  }

  /**
   * Runs an S3 call, turning an unreachable or failing service into StorageUnavailableError.
   * A 501 passes through as is: the server lacks that operation, and the caller falls back.
   */
  async call<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const status = statusOf(error);
      if (error instanceof S3ServiceException && ((status ?? 500) < 500 || status === 501)) throw error;
      if (isNotFound(error)) throw error;
      throw new StorageUnavailableError(`S3 at ${this.settings.endpoint ?? 'AWS'} failed: ${(error as Error).message || (error as Error).name}`);
    }
  }

  /** Whether reads go in parallel parts: the bucket is across a network (ACROSS_NETWORK_MS), as far as its small requests have told. */
  get farAway(): boolean {
    return (this.roundTrips.fastest ?? 0) >= ACROSS_NETWORK_MS;
  }

  /** A request Berth signs itself, timed; undefined, untimed, with the fast paths off. */
  private async quick<T>(request: (signed: SignedRequests) => Promise<T>): Promise<T | undefined> {
    const signed = this.signed;
    return signed && this.roundTrips.timed(() => request(signed));
  }

  /** An object's size and time, or undefined when there is none. */
  async head(key: string): Promise<FileInfo | undefined> {
    const quick = await this.quick((signed) => signed.head(key));
    if (quick) return quick === 'missing' ? undefined : quick.found;
    try {
      const head = await this.roundTrips.timed(() => this.call(() => this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }))));
      return { size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A small object's whole content, or undefined when there is none. */
  async content(key: string): Promise<Buffer | undefined> {
    const quick = await this.quick((signed) => signed.get(key));
    if (quick) return quick === 'missing' ? undefined : quick.found;
    try {
      return await buffer(await this.reader(key));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** An object's bytes through the SDK; a missing object rejects with S3's not-found error. */
  async reader(key: string, range?: ByteRange): Promise<Readable> {
    const response = await this.call(() =>
      this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) })),
    );
    return response.Body as Readable;
  }

  /** A range of an object as its own GET; undefined, with nothing left open, when the server answers with anything but exactly that range. */
  async rangeReader(key: string, range: ByteRange): Promise<Readable | undefined> {
    const response = await this.call(() =>
      this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: `bytes=${range.start}-${range.end - 1}` })),
    );
    const body = response.Body as Readable;
    if (response.$metadata.httpStatusCode === 206 && response.ContentLength === range.end - range.start) return body;
    body.destroy();
    return undefined;
  }

  /** A presigned GET on a connection of its own; undefined for any answer but the object, which the SDK then asks for again. */
  async directReader(key: string, range: ByteRange): Promise<Readable | undefined> {
    return DirectObjectReader.open(new URL(await this.presignedGet(key)), range, REQUEST_TIMEOUT);
  }

  async presignedGet(key: string): Promise<string> {
    const quick = await this.signed?.presignedGet(key, PRESIGN_SECONDS);
    return quick ?? getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), { expiresIn: PRESIGN_SECONDS });
  }

  async putObject(key: string, content: Buffer | string): Promise<void> {
    if (await this.signed?.put(key, Buffer.from(content))) return;
    await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: content })));
  }

  /**
   * Streams into the object through a multipart upload, visible only once complete, with as many
   * parts in flight as the process's budget spares. Returns the byte count.
   */
  async upload(key: string, source: Readable): Promise<number> {
    let bytes = 0;
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    const extra = this.parts.takeUpTo(this.settings.parallelParts - 1);
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.settings.bucket, Key: key, Body: source },
        partSize: this.settings.partSize,
        queueSize: 1 + extra,
        leavePartsOnError: false,
      });
      await this.call(() => upload.done());
    } finally {
      this.parts.give(extra);
    }
    return bytes;
  }

  /** Every key under a prefix, one ListObjectsV2 page at a time (a tag list, the catalog and gc's walk are listings). */
  async *keys(prefix: string, delimiter?: string): AsyncGenerator<KeyPage> {
    let token: string | undefined;
    do {
      const page =
        // Not timed as a round trip: reading a page of up to 1,000 keys takes longer than a HEAD.
        (await this.signed?.list(prefix, delimiter, token)) ??
        keyPageOf(
          await this.call(() =>
            this.client.send(
              new ListObjectsV2Command({
                Bucket: this.settings.bucket,
                Prefix: prefix,
                ContinuationToken: token,
                ...(delimiter ? { Delimiter: delimiter } : {}),
              }),
            ),
          ),
        );
      yield page;
      token = page.next;
    } while (token);
  }

  async deleteObject(key: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key })));
  }

  /** DeleteObjects where the server takes it; one DeleteObject per key where it does not. */
  async deleteKeys(keys: string[]): Promise<void> {
    try {
      await this.call(() =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
      );
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      for (const key of keys) await this.deleteObject(key);
    }
  }

  /** Confirms the bucket exists and the credentials reach it; throws a one-line error otherwise. */
  async check(): Promise<void> {
    const where = `bucket "${this.settings.bucket}" at ${this.settings.endpoint ?? `AWS ${this.settings.region}`}`;
    try {
      await this.roundTrips.timed(() =>
        this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }), { abortSignal: AbortSignal.timeout(15_000) }),
      );
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) throw new Error(`${where} does not exist`, { cause: error });
      if (status === 403 || status === 401) throw new Error(`access to ${where} denied: check the credentials`, { cause: error });
      const cause = (error as { code?: string }).code ?? (error as Error).name;
      throw new Error(`cannot reach ${where}: ${cause}${(error as Error).message ? ` (${(error as Error).message})` : ''}`, { cause: error });
    }
  }

  close(): void {
    this.signed?.close();
    this.client.destroy();
  }
}
