import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Digest algorithms Berth verifies (image-spec descriptor.md "Registered algorithms"). */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class DigestParseError extends Error {}

/** Content hashed to something other than the digest that named it; `source` says what the content was. */
export class DigestMismatchError extends Error {
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
    readonly source: string,
  ) {
    super(`digest mismatch for ${source}: expected ${expected}, got ${actual}`);
  }
}

/** A content digest such as `sha256:9f86…`, validated against image-spec descriptor.md#digests. */
export class Digest {
  /** The `algorithm:hex` string, made once: walks of large registries key maps and sets by it. */
  private text: string | undefined;

  private constructor(
    readonly algorithm: DigestAlgorithm,
    readonly hex: string,
  ) {}

  static parse(text: string): Digest {
    if (!GRAMMAR.test(text)) throw new DigestParseError(`invalid digest "${text}"`);
    const [algorithm, hex] = text.split(':') as [string, string];
    if (!isDigestAlgorithm(algorithm)) throw new DigestParseError(`unsupported digest algorithm "${algorithm}"`);
    if (hex.length !== DIGEST_ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
      throw new DigestParseError(`invalid ${algorithm} digest "${text}"`);
    }
    return new Digest(algorithm, hex);
  }

  static tryParse(text: string): Digest | undefined {
    try {
      return Digest.parse(text);
    } catch {
      return undefined;
    }
  }

  static of(content: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
    return new Digest(algorithm, createHash(algorithm).update(content).digest('hex'));
  }

  static fromHash(algorithm: DigestAlgorithm, hash: Hash): Digest {
    return new Digest(algorithm, hash.digest('hex'));
  }

  equals(other: Digest): boolean {
    return this.algorithm === other.algorithm && this.hex === other.hex;
  }

  toString(): string {
    return (this.text ??= `${this.algorithm}:${this.hex}`);
  }

  toJSON(): string {
    return this.toString();
  }
}

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, name);
}

/** A pass-through stream that hashes and counts the bytes flowing through it. */
export class DigestingStream extends Transform {
  /** The running hash; pass one in to continue hashing content that began earlier. */
  readonly hash: Hash;
  bytes = 0;

  constructor(
    readonly algorithm: DigestAlgorithm = 'sha256',
    hash?: Hash,
  ) {
    super();
    this.hash = hash ?? createHash(algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The digest of everything that flowed through; call once, after the stream finished. */
  digest(): Digest {
    return Digest.fromHash(this.algorithm, this.hash);
  }
}
