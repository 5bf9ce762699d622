import { Readable } from 'node:stream';
import type { ByteRange, FileInfo } from '../../driver.ts';
import type { S3Bucket } from './s3-bucket.ts';
import { copyObject, copyParts, MIN_PART, rangesOf, streamInto } from './s3-copy.ts';

export interface Segment {
  key: string;
  start: number;
  size: number;
  modified: Date;
}

/** Segment names are their start offsets, zero-padded so they list in order. */
const OFFSET_DIGITS = 16;

/**
 * An upload's bytes in S3, which has no append: each appended chunk is its own object under
 * `<path>.segments/<start offset>`. The state lives only in the bucket, so any replica can
 * continue the upload. Committing joins the segments: with UploadPartCopy when every segment but
 * the last is a valid part (≥ 5 MiB), else by streaming them once into the target.
 */
export class SegmentedObject {
  private readonly prefix: string;

  constructor(
    private readonly bucket: S3Bucket,
    path: string,
  ) {
    this.prefix = `${bucket.key(path)}.segments/`;
  }

  /** The segments in order of their offsets. */
  async list(): Promise<Segment[]> {
    const segments: Segment[] = [];
    for await (const page of this.bucket.keys(this.prefix)) {
      for (const { key, size, modified } of page.keys) {
        const start = Number(key.slice(this.prefix.length));
        if (Number.isSafeInteger(start)) segments.push({ key, start, size, modified });
      }
    }
    return segments.sort((a, b) => a.start - b.start);
  }

  async stat(): Promise<FileInfo | undefined> {
    const segments = await this.list();
    if (segments.length === 0) return undefined;
    const last = segments[segments.length - 1]!;
    return { size: last.start + last.size, modified: new Date(Math.max(...segments.map((s) => s.modified.getTime()))) };
  }

  async append(source: Readable, offset: number): Promise<number> {
    const key = `${this.prefix}${String(offset).padStart(OFFSET_DIGITS, '0')}`;
    const bytes = await this.bucket.upload(key, source);
    if (bytes === 0) await this.bucket.deleteKeys([key]);
    return offset + bytes;
  }

  /** The segments (`listed`, when the caller has just listed them) as one stream, or undefined when there are none. */
  async reader(range?: ByteRange, listed?: Segment[]): Promise<Readable | undefined> {
    const segments = listed ?? (await this.list());
    if (segments.length === 0) return undefined;
    const bucket = this.bucket;
    const want = range ?? { start: 0, end: Number.MAX_SAFE_INTEGER };
    async function* bytes() {
      for (const segment of segments) {
        const start = Math.max(want.start - segment.start, 0);
        const end = Math.min(want.end - segment.start, segment.size);
        if (end <= start) continue;
        yield* await bucket.reader(segment.key, { start, end });
      }
    }
    return Readable.from(bytes());
  }

  /** Joins the segments (`listed`, when the caller has just listed them) into the object `to`. */
  async concatenateInto(to: string, listed?: Segment[]): Promise<void> {
    const segments = (listed ?? (await this.list())).filter((segment) => segment.size > 0);
    if (segments.length === 0) return this.bucket.putObject(to, Buffer.alloc(0));
    if (segments.length === 1) return copyObject(this.bucket, segments[0]!.key, to, segments[0]!.size);
    const partsValid = segments.slice(0, -1).every((segment) => segment.size >= MIN_PART);
    const sources = segments.flatMap((segment) => rangesOf(segment.key, segment.size));
    if (partsValid && sources.length <= 10_000 && (await copyParts(this.bucket, sources, to))) return;
    await streamInto(this.bucket, async () => (await this.reader(undefined, segments))!, to);
  }

  async delete(): Promise<void> {
    const keys = (await this.list()).map((segment) => segment.key);
    for (let i = 0; i < keys.length; i += 1000) await this.bucket.deleteKeys(keys.slice(i, i + 1000));
  }
}
