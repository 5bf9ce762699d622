import { Readable } from 'node:stream';
import { OffsetMismatchError, PathNotFoundError, type ByteRange, type Driver, type FileInfo, type PurgeOptions, type StaleWrites } from '../../driver.ts';
import { paths } from '../../paths.ts';
import { ParallelObjectReader } from './parallel-reader.ts';
import { ReadCoalescer } from './read-coalescer.ts';
import { abortAbandonedUploads } from './s3-abandoned-uploads.ts';
import { isNotFound, S3Bucket, type S3Settings } from './s3-bucket.ts';
import { copyObject } from './s3-copy.ts';
import { SegmentedObject } from './s3-segments.ts';
import { appendAlone } from '../append-alone.ts';
import { relayAvailable } from '../socket-target.ts';

/** Ranges from this size on are fetched to be spliced; below it a connection of their own costs more than it saves. */
const DIRECT_MIN = 1 << 20;

/**
 * Stores the tree in an S3 bucket under a prefix, in the same layout as on disk. Needs only
 * GET/PUT/HEAD/DELETE object, ListObjectsV2 with a delimiter, multipart uploads and CopyObject;
 * UploadPartCopy and DeleteObjects are used where the server has them, with fallbacks.
 */
export class S3Driver implements Driver {
  private readonly bucket: S3Bucket;
  /** Concurrent reads of one link, tag or size share a request: a burst of HEADs of one blob costs a round trip per round, not per request. */
  private readonly heads = new ReadCoalescer<FileInfo | undefined>();
  private readonly contents = new ReadCoalescer<Buffer>();
  /** Plain HTTP endpoint: readers of large ranges fetch them on connections of their own, which the kernel can splice into responses. */
  private readonly direct: boolean;

  constructor(settings: S3Settings) {
    this.bucket = new S3Bucket(settings);
    this.direct = settings.fastPaths && relayAvailable && new URL(settings.endpoint ?? 'https://s3.amazonaws.com').protocol === 'http:';
  }

  /** A read of `path` shared with concurrent ones (fast paths), or a request of its own. */
  private shared<T>(coalescer: ReadCoalescer<T>, path: string, read: () => Promise<T>): Promise<T> {
    return this.bucket.settings.fastPaths ? coalescer.read(path, read) : read();
  }

  get location(): string {
    const { bucket, prefix } = this.bucket.settings;
    return `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  }

  private segments(path: string): SegmentedObject {
    return new SegmentedObject(this.bucket, path);
  }

  /** A plain object's info, without looking for upload segments. */
  private head(path: string): Promise<FileInfo | undefined> {
    return this.shared(this.heads, path, () => this.bucket.head(this.bucket.key(path)));
  }

  /**
   * Only an upload's data is ever appended, so only there does a missing object send a listing
   * after its segments: a blob HEAD or a link read that misses stays one request.
   */
  async stat(path: string): Promise<FileInfo | undefined> {
    if (!paths.isUploadData(path)) return this.head(path);
    const [plain, segmented] = await Promise.all([this.head(path), this.segments(path).stat()]);
    return plain ?? segmented;
  }

  /** Small objects (links, manifests) are never appended: a missing one costs no listing of segments. */
  getContent(path: string): Promise<Buffer> {
    return this.shared(this.contents, path, async () => {
      const content = await this.bucket.content(this.bucket.key(path));
      if (!content) throw new PathNotFoundError(path);
      return content;
    });
  }

  async putContent(path: string, content: Buffer | string): Promise<void> {
    await this.bucket.putObject(this.bucket.key(path), content);
  }

  /** One object's bytes; an upload's appended segments read as one stream. */
  async reader(path: string, range?: ByteRange): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    const key = this.bucket.key(path);
    const length = range ? range.end - range.start : 0;
    try {
      // A range of two parts or more from a bucket across a network is read in parallel parts (parallel-reader.ts).
      const { partSize, parallelParts } = this.bucket.settings;
      if (range && parallelParts > 1 && length >= 2 * partSize && this.bucket.farAway) {
        const parts = { partSize, parallel: parallelParts, budget: this.bucket.parts };
        const parallel = await ParallelObjectReader.open((part) => this.bucket.rangeReader(key, part), range, parts);
        if (parallel) return parallel;
      }
      const direct = this.direct && range !== undefined && length >= DIRECT_MIN;
      return (direct && (await this.bucket.directReader(key, range))) || (await this.bucket.reader(key, range));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const segmented = await this.segments(path).reader(range);
    if (!segmented) throw new PathNotFoundError(path);
    return segmented;
  }

  /** Streams into the object through a multipart upload: visible only once complete. */
  async write(path: string, source: Readable): Promise<number> {
    return this.bucket.upload(this.bucket.key(path), source);
  }

  append(path: string, source: Readable, offset: number): Promise<number> {
    const segments = this.segments(path);
    const size = async () => (await segments.stat())?.size ?? 0;
    const { endpoint, bucket } = this.bucket.settings;
    return appendAlone(`${endpoint ?? 'aws'} ${bucket} ${this.bucket.key(path)}`, path, offset, source, size, async () => {
      const held = await size();
      if (held !== offset) {
        source.resume();
        throw new OffsetMismatchError(path, offset, held);
      }
      return segments.append(source, offset);
    });
  }

  async list(path: string): Promise<string[]> {
    const prefix = `${this.bucket.key(path)}/`;
    const names = new Set<string>();
    for await (const page of this.bucket.keys(prefix, '/')) {
      for (const common of page.prefixes) names.add(common.slice(prefix.length, -1));
      for (const { key } of page.keys) names.add(key.slice(prefix.length));
    }
    names.delete('');
    return [...names];
  }

  async listCommonPrefixes(path: string, delimiter: string): Promise<string[]> {
    const prefix = `${this.bucket.key(path)}/`;
    const names = new Set<string>();
    for await (const page of this.bucket.keys(prefix, delimiter)) {
      for (const common of page.prefixes) names.add(common.slice(prefix.length, -delimiter.length));
    }
    return [...names];
  }

  async move(from: string, to: string): Promise<void> {
    const segments = this.segments(from);
    const [plain, parts] = await Promise.all([this.head(from), paths.isUploadData(from) ? segments.list() : []]);
    const target = this.bucket.key(to);
    if (plain) await copyObject(this.bucket, this.bucket.key(from), target, plain.size);
    else if (parts.length) await segments.concatenateInto(target, parts);
    else throw new PathNotFoundError(from);
    await this.delete(from);
  }

  /**
   * The object, the listing of what lies below it and (for an upload's data, the only object ever
   * appended) its segments, all at once: on a real bucket each is a round trip.
   */
  async delete(path: string): Promise<void> {
    const key = this.bucket.key(path);
    const below = async () => {
      for await (const page of this.bucket.keys(`${key}/`)) {
        const keys = page.keys.map(({ key }) => key);
        if (keys.length) await this.bucket.deleteKeys(keys);
      }
    };
    await Promise.all([this.bucket.deleteObject(key), below(), paths.isUploadData(path) ? this.segments(path).delete() : undefined]);
  }

  /**
   * Multipart uploads a dead process left open (s3-abandoned-uploads.ts). Upload segments are
   * objects inside their upload session (`_uploads/<id>/data.segments/`), so gc's purge of idle
   * upload sessions takes orphaned ones with them.
   */
  purgeStale(path: string, olderThan: Date, options?: PurgeOptions): Promise<StaleWrites> {
    return abortAbandonedUploads(this.bucket, `${this.bucket.key(path)}/`, olderThan, options);
  }

  async redirectURL(path: string): Promise<string | undefined> {
    if (!this.bucket.settings.redirect) return undefined;
    return this.bucket.presignedGet(this.bucket.key(path));
  }

  check(): Promise<void> {
    return this.bucket.check();
  }

  async close(): Promise<void> {
    this.bucket.close();
  }
}
