import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { extract, type Extract } from 'tar-stream';

/** One layer's filesystem changes, in the order the tar lists them. */
export interface LayerChanges {
  /** Regular files the layer adds or replaces. */
  files: { path: string; size: number }[];
  /** Paths an AUFS whiteout (`.wh.NAME`) deletes from the layers below. */
  deleted: string[];
  /** Directories an opaque whiteout (`.wh..wh..opq`) empties in the layers below. */
  opaque: string[];
}

/** Called for each regular file with its SHA-256, when the caller wants file contents hashed. */
export type FileVisitor = (path: string, size: number, sha256: Buffer) => void;

/** Opens the layer blob, whole or the first bytes of it. */
export type OpenLayer = (range?: { start: number; end: number }) => Promise<Readable>;

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * Streams a layer (gzip, zstd or plain tar, told apart by magic bytes, whatever the media type
 * claims) and lists its changes. Memory stays bounded: one tar entry is in flight at a time.
 */
export async function scanLayer(open: OpenLayer, visit?: FileVisitor): Promise<LayerChanges> {
  const magic = await readAll(await open({ start: 0, end: 4 }));
  const changes: LayerChanges = { files: [], deleted: [], opaque: [] };
  const tar = extract();
  const source = await open();
  const decompress = decompression(magic);
  // Failures surface through the tar iterator below, which the pipeline destroys with the error.
  if (decompress) pipeline(source, decompress, tar, () => undefined);
  else pipeline(source, tar, () => undefined);
  try {
    await readEntries(tar, changes, visit);
  } catch (error) {
    const format = decompress instanceof ZstdDecompress ? 'zstd' : decompress ? 'gzip' : 'plain';
    throw new Error(`not a ${format} tar archive: ${(error as Error).message.split('. ')[0]}`, { cause: error });
  }
  return changes;
}

async function readEntries(tar: Extract, changes: LayerChanges, visit: FileVisitor | undefined): Promise<void> {
  for await (const entry of tar) {
    const path = normalize(entry.header.name);
    const name = posix.basename(path);
    const type = entry.header.type;
    if (name === OPAQUE) changes.opaque.push(posix.dirname(path));
    else if (name.startsWith(WHITEOUT)) changes.deleted.push(posix.join(posix.dirname(path), name.slice(WHITEOUT.length)));
    else if (type === 'file' || type === 'contiguous-file') {
      const size = entry.header.size ?? 0;
      changes.files.push({ path, size });
      if (visit) {
        const hash = createHash('sha256');
        for await (const chunk of entry) hash.update(chunk as Buffer);
        visit(path, size, hash.digest());
        continue;
      }
    }
    entry.resume();
  }
}

function decompression(magic: Buffer): Transform | undefined {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return createGunzip();
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) return new ZstdDecompress();
  return undefined;
}

/** fzstd (pure JavaScript) as a stream: Node 20 has no zstd in node:zlib. */
class ZstdDecompress extends Transform {
  private readonly zstd = new Decompress((chunk) => this.push(chunk));

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.zstd.push(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.zstd.push(new Uint8Array(0), true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** `./usr/bin/x` and `usr/bin/x/` both become `usr/bin/x`. */
function normalize(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
