import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1 << 20;

/**
 * A fresh random blob of any size that costs no disk and little memory: an AES-CTR keystream
 * from a new key, replayable as often as needed, with its digest computed up front.
 */
export class RandomBlob {
  private readonly key = randomBytes(16);
  private readonly iv = randomBytes(16);
  readonly digest: string;

  private constructor(readonly size: number) {
    const hash = createHash('sha256');
    for (const chunk of this.chunks()) hash.update(chunk);
    this.digest = `sha256:${hash.digest('hex')}`;
  }

  static create(size: number): RandomBlob {
    return new RandomBlob(size);
  }

  private *chunks(start = 0, end = this.size): Generator<Buffer> {
    const cipher = createCipheriv('aes-128-ctr', this.key, this.iv);
    const zeros = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < end; offset += CHUNK) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(CHUNK, this.size - offset)));
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, chunk.length);
      if (to > from) yield chunk.subarray(from, to);
    }
  }

  /** The bytes from `start` to `end` (exclusive), as a stream. */
  stream(start = 0, end = this.size): Readable {
    return Readable.from(this.chunks(start, end), { objectMode: false });
  }
}
