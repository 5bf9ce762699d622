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
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  OffsetMismatchError,
  PathNotFoundError,
  StorageUnavailableError,
  type ByteRange,
  type Driver,
  type FileInfo,
  type PurgeOptions,
  type StaleWrites,
} from './driver.ts';
import { ReadCoalescer } from './read-coalescer.ts';
import { abortAbandonedUploads } from './s3-abandoned-uploads.ts';
import { copyObject } from './s3-copy.ts';
import { DirectObjectReader } from './s3-direct-reader.ts';
import { SegmentedObject } from './s3-segments.ts';
import { SignedRequests } from './s3-signed-requests.ts';
import { relayAvailable } from './socket-target.ts';

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
}

/** Multipart part size for streamed writes: memory per upload is about twice this. */
export const PART_SIZE = 8 * 1024 * 1024;
const PRESIGN_SECONDS = 20 * 60;
const REQUEST_TIMEOUT = 60_000;
/** Ranges from this size on are fetched to be spliced; below it a connection of their own costs more than it saves. */
const DIRECT_MIN = 1 << 20;

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404 || (error as Error).name === 'NoSuchKey' || (error as Error).name === 'NotFound';
}

/**
 * Stores the tree in an S3 bucket under a prefix, in the same layout as on disk. Needs only
 * GET/PUT/HEAD/DELETE object, ListObjectsV2 with a delimiter, multipart uploads and CopyObject;
 * UploadPartCopy and DeleteObjects are used where the server has them, with fallbacks.
 */
export class S3Driver implements Driver {
  readonly client: S3Client;
  /** Concurrent reads of one link, tag or size share a request: a burst of HEADs of one blob costs a round trip per round, not per request. */
  private readonly heads = new ReadCoalescer<FileInfo | undefined>();
  private readonly contents = new ReadCoalescer<Buffer>();
  private readonly signed: SignedRequests;
  /** Plain HTTP endpoint: readers of large ranges fetch them on connections of their own, which the kernel can splice into responses. */
  private readonly direct: boolean;

  constructor(readonly settings: S3Settings) {
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
    this.signed = new SignedRequests(this.client, settings.bucket);
    this.direct = relayAvailable && new URL(settings.endpoint ?? 'https://s3.amazonaws.com').protocol === 'http:';
  }

  get location(): string {
    return `s3://${this.settings.bucket}${this.settings.prefix ? `/${this.settings.prefix}` : ''}`;
  }

  key(path: string): string {
    return this.settings.prefix ? `${this.settings.prefix}/${path}` : path;
  }

  private segments(path: string): SegmentedObject {
    return new SegmentedObject(this, path);
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

  /** A plain object's info, without looking for upload segments. */
  private head(path: string): Promise<FileInfo | undefined> {
    return this.heads.read(path, async () => {
      const key = this.key(path);
      const quick = await this.signed.head(key);
      if (quick) return quick === 'missing' ? undefined : quick.found;
      try {
        const head = await this.call(() => this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key })));
        return { size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.head(path);
  }

  /** Looks for segments only here: on every `stat` that misses, that listing was a second request. */
  async statAppended(path: string): Promise<FileInfo | undefined> {
    return (await this.head(path)) ?? this.segments(path).stat();
  }

  /** Small objects (links, manifests) are never appended: a missing one costs no listing of segments. */
  getContent(path: string): Promise<Buffer> {
    return this.contents.read(path, async () => {
      const key = this.key(path);
      const quick = await this.signed.get(key);
      if (quick === 'missing') throw new PathNotFoundError(path);
      if (quick) return quick.found;
      const body = await this.objectReader(key).catch((error: unknown) => {
        throw isNotFound(error) ? new PathNotFoundError(path) : error;
      });
      return buffer(body);
    });
  }

  async putContent(path: string, content: Buffer | string): Promise<void> {
    await this.putObject(this.key(path), content);
  }

  async putObject(key: string, content: Buffer | string): Promise<void> {
    await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: content })));
  }

  /** One object's bytes; an upload's appended segments read as one stream. */
  async reader(path: string, range?: ByteRange): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    const direct = this.direct && range !== undefined && range.end - range.start >= DIRECT_MIN;
    try {
      return (direct && (await this.directReader(this.key(path), range))) || (await this.objectReader(this.key(path), range));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const segmented = await this.segments(path).reader(range);
    if (!segmented) throw new PathNotFoundError(path);
    return segmented;
  }

  async objectReader(key: string, range?: ByteRange): Promise<Readable> {
    const response = await this.call(() =>
      this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
      ),
    );
    return response.Body as Readable;
  }

  /** A presigned GET on a connection of its own; undefined for any answer but the object, which the SDK then asks for again. */
  private async directReader(key: string, range: ByteRange): Promise<Readable | undefined> {
    return DirectObjectReader.open(new URL(await this.presignedGet(key)), range, REQUEST_TIMEOUT);
  }

  private async presignedGet(key: string): Promise<string> {
    const quick = await this.signed.presignedGet(key, PRESIGN_SECONDS);
    return quick ?? getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), { expiresIn: PRESIGN_SECONDS });
  }

  /** Streams into the object through a multipart upload: visible only once complete. */
  async write(path: string, source: Readable): Promise<number> {
    return this.upload(this.key(path), source);
  }

  async upload(key: string, source: Readable): Promise<number> {
    let bytes = 0;
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: key, Body: source },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await this.call(() => upload.done());
    return bytes;
  }

  async append(path: string, source: Readable, offset: number): Promise<number> {
    const segments = this.segments(path);
    const size = (await segments.stat())?.size ?? 0;
    if (size !== offset) {
      source.resume();
      throw new OffsetMismatchError(path, offset, size);
    }
    return segments.append(source, offset);
  }

  /** Every key under a prefix, one ListObjectsV2 page at a time. */
  async *keys(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token, ...(delimiter ? { Delimiter: delimiter } : {}) }),
        ),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async list(path: string): Promise<string[]> {
    const prefix = `${this.key(path)}/`;
    const names = new Set<string>();
    for await (const page of this.keys(prefix, '/')) {
      for (const common of page.CommonPrefixes ?? []) names.add(common.Prefix!.slice(prefix.length, -1));
      for (const object of page.Contents ?? []) names.add(object.Key!.slice(prefix.length));
    }
    names.delete('');
    return [...names];
  }

  async listCommonPrefixes(path: string, delimiter: string): Promise<string[]> {
    const prefix = `${this.key(path)}/`;
    const names = new Set<string>();
    for await (const page of this.keys(prefix, delimiter)) {
      for (const common of page.CommonPrefixes ?? []) names.add(common.Prefix!.slice(prefix.length, -delimiter.length));
    }
    return [...names];
  }

  async move(from: string, to: string): Promise<void> {
    const plain = await this.head(from);
    if (plain) await copyObject(this, this.key(from), this.key(to), plain.size);
    else if (await this.segments(from).stat()) await this.segments(from).concatenateInto(this.key(to));
    else throw new PathNotFoundError(from);
    await this.delete(from);
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key })));
    for await (const page of this.keys(`${key}/`)) {
      const keys = (page.Contents ?? []).map((object) => object.Key!);
      if (keys.length) await this.deleteKeys(keys);
    }
    await this.segments(path).delete();
  }

  /** DeleteObjects where the server takes it; one DeleteObject per key where it does not. */
  async deleteKeys(keys: string[]): Promise<void> {
    try {
      await this.call(() =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
      );
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      for (const Key of keys) await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key })));
    }
  }

  /**
   * Multipart uploads a dead process left open (s3-abandoned-uploads.ts). Upload segments are
   * objects inside their upload session (`_uploads/<id>/data.segments/`), so gc's purge of idle
   * upload sessions takes orphaned ones with them.
   */
  purgeStale(path: string, olderThan: Date, options?: PurgeOptions): Promise<StaleWrites> {
    return abortAbandonedUploads(this, `${this.key(path)}/`, olderThan, options);
  }

  async redirectURL(path: string): Promise<string | undefined> {
    if (!this.settings.redirect) return undefined;
    return this.presignedGet(this.key(path));
  }

  async check(): Promise<void> {
    const where = `bucket "${this.settings.bucket}" at ${this.settings.endpoint ?? `AWS ${this.settings.region}`}`;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }), { abortSignal: AbortSignal.timeout(15_000) });
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) throw new Error(`${where} does not exist`, { cause: error });
      if (status === 403 || status === 401) throw new Error(`access to ${where} denied: check the credentials`, { cause: error });
      const cause = (error as { code?: string }).code ?? (error as Error).name;
      throw new Error(`cannot reach ${where}: ${cause}${(error as Error).message ? ` (${(error as Error).message})` : ''}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.signed.close();
    this.client.destroy();
  }
}
