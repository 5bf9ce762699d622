import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pMap from 'p-map';
import { Digest } from '../oci/digest.ts';
import { paths } from '../storage/paths.ts';

/** The shape of a synthetic registry (issue 29's roots). */
export interface ScaleShape {
  repositories: number;
  tagsPerRepository: number;
  layersPerImage: number;
  /** Distinct layers the images draw theirs from: the sharing a registry of one organisation's images shows. */
  poolSize: number;
  /** Bytes of each pool layer; sizes only count, so small ones keep the root quick to write. */
  layerBytes: number;
}

export const SCALE_DEFAULTS: Omit<ScaleShape, 'repositories'> = { tagsPerRepository: 4, layersPerImage: 5, poolSize: 2000, layerBytes: 2048 };

/** A file under the root: its path and bytes. */
export type RootFile = [path: string, content: string | Buffer];

/** The same root for the same shape: a pseudo-random sequence (xorshift) from a fixed seed. */
function sequence(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function blob(content: string | Buffer): { digest: Digest; size: number; file: RootFile } {
  const bytes = Buffer.from(content);
  const digest = Digest.parse(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  return { digest, size: bytes.length, file: [paths.blobData(digest), bytes] };
}

/** The name of the root's repository `index` (from 0). */
export function scaleRepositoryName(index: number): string {
  return `team-${index % 100}/app-${index}`;
}

/** One repository's images (config, manifest, links, tags), drawing layers from the pool. */
function repositoryFiles(index: number, shape: ScaleShape, pool: ReturnType<typeof blob>[], random: () => number): RootFile[] {
  const name = scaleRepositoryName(index);
  const files: RootFile[] = [];
  const layered = new Set<string>();
  const link = (digest: Digest) => {
    if (layered.has(digest.toString())) return;
    layered.add(digest.toString());
    files.push([paths.layerLink(name, digest), digest.toString()]);
  };
  for (let tag = 0; tag < shape.tagsPerRepository; tag++) {
    const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { repository: name, tag: String(tag) } } }));
    const layers = Array.from({ length: shape.layersPerImage }, () => pool[Math.floor(random() * pool.length)]!);
    const manifest = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest.toString(), size: config.size },
        layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest.toString(), size: layer.size })),
      }),
    );
    files.push(config.file, manifest.file);
    for (const layer of [config, ...layers]) link(layer.digest);
    const tagName = `v${tag}`;
    files.push(
      [paths.revisionLink(name, manifest.digest), manifest.digest.toString()],
      [paths.tagCurrentLink(name, tagName), manifest.digest.toString()],
      [paths.tagIndexLink(name, tagName, manifest.digest), manifest.digest.toString()],
    );
  }
  return files;
}

/** Writes at most this many files at once: enough to keep the disk busy, few enough for the open-file limit. */
const WRITES_IN_FLIGHT = 64;

/**
 * The files of a registry of `shape` in Distribution's layout, made as they are taken: the whole
 * root's list at 20,000 repositories would be memory of its own. The same shape gives the same files.
 */
export function* scaleRootFiles(shape: ScaleShape): Generator<RootFile> {
  const random = sequence(shape.repositories * 7919 + shape.poolSize);
  const pool = Array.from({ length: shape.poolSize }, (_, index) => {
    const bytes = Buffer.alloc(shape.layerBytes);
    bytes.writeUInt32BE(index);
    return blob(bytes);
  });
  for (const layer of pool) yield layer.file;
  for (let repository = 0; repository < shape.repositories; repository++) yield* repositoryFiles(repository, shape, pool, random);
}

/**
 * Writes a registry of `shape` straight into Distribution's layout under `root` (both servers read
 * it): pushing 20,000 images over HTTP would measure the push, not the walk. Returns the files written.
 */
export async function writeScaleRoot(root: string, shape: ScaleShape): Promise<number> {
  const made = new Map<string, Promise<unknown>>();
  let written = 0;
  await pMap(
    scaleRootFiles(shape),
    async ([path, content]) => {
      const file = join(root, path);
      const directory = dirname(file);
      if (!made.has(directory)) made.set(directory, mkdir(directory, { recursive: true }));
      await made.get(directory);
      await writeFile(file, content);
      written++;
    },
    { concurrency: WRITES_IN_FLIGHT },
  );
  return written;
}
