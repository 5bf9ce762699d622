import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1 << 20;
/** AES works in 16-byte blocks; CTR mode's counter counts them. */
const BLOCK = 16;

/**
 * A fresh random blob of any size that costs no disk and little memory: an AES-CTR keystream
 * from a new key, replayable from any offset as often as needed, with its digest computed up front.
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

  /** The counter block for the keystream block at `index`: the IV plus `index`, as a 128-bit big-endian number. */
  private counterAt(index: number): Buffer {
    const counter = (BigInt(`0x${this.iv.toString('hex')}`) + BigInt(index)) % (1n << 128n);
    return Buffer.from(counter.toString(16).padStart(32, '0'), 'hex');
  }

  /** Keystream from `start` to `end`: the cipher starts at the block holding `start`, so a chunk costs its own length only. */
  private *chunks(start = 0, end = this.size): Generator<Buffer> {
    const first = Math.floor(start / BLOCK) * BLOCK;
    const cipher = createCipheriv('aes-128-ctr', this.key, this.counterAt(first / BLOCK));
    const zeros = Buffer.alloc(CHUNK);
    for (let offset = first; offset < end; offset += CHUNK) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(CHUNK, end - offset)));
      yield offset < start ? chunk.subarray(start - offset) : chunk;
    }
  }

  /** The bytes from `start` to `end` (exclusive), as a stream. */
  stream(start = 0, end = this.size): Readable {
    return Readable.from(this.chunks(start, end), { objectMode: false });
  }
}
