import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { MediaType } from '../../oci/media-types.ts';
import { blobOf, imageManifest, type TestBlob } from './content.ts';
import type { RegistryAPI } from './registry-api.ts';

type TarEntry = { name: string; content: Buffer } | { name: string; type: 'directory' | 'symlink'; linkname?: string };

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const entry of entries) {
    if ('content' in entry) archive.entry({ name: entry.name, type: 'file', size: entry.content.length }, entry.content);
    else archive.entry({ name: entry.name, type: entry.type, ...(entry.linkname ? { linkname: entry.linkname } : {}) });
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function zstd(bytes: Buffer): Buffer {
  const result = spawnSync('zstd', ['-q', '-c'], { input: bytes, maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`zstd: ${result.stderr.toString()}`);
  return result.stdout;
}

/** What the deep fixture planted, and the figures `--deep` must find. */
export interface LayerFixture {
  /** A file stored in three layers (gzip, gzip, zstd) of two repositories. */
  shared: { path: string; size: number; copies: number };
  duplicateFileBytes: number;
  /** deep/one:layered overwrites one file, whites out another and empties a directory. */
  wastedBytes: number;
  wastedFiles: number;
  layersScanned: number;
  layersSkipped: number;
}

/**
 * Images with real layers: gzip, zstd and plain tar, holding planted duplicate files,
 * overwritten and whited-out files, and one artifact "layer" that is not a tar at all.
 */
export async function pushLayerFixture(api: RegistryAPI): Promise<LayerFixture> {
  const library = randomBytes(8000);
  const motd = randomBytes(2500);
  const lower = gzipSync(
    await tarOf([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/big.bin', content: randomBytes(20_000) },
      { name: 'etc/motd', content: motd },
      { name: 'usr/lib/libshared.so', content: library },
      { name: 'tmp/cache.dat', content: randomBytes(5000) },
      { name: 'opt/app/old.txt', content: randomBytes(3000) },
      { name: 'usr/lib/libshared.so.1', type: 'symlink', linkname: 'libshared.so' },
    ]),
  );
  const upper = gzipSync(
    await tarOf([
      { name: './etc/big.bin', content: randomBytes(1000) },
      { name: './tmp/.wh.cache.dat', content: Buffer.alloc(0) },
      { name: './opt/app/.wh..wh..opq', content: Buffer.alloc(0) },
      { name: './opt/app/new.txt', content: randomBytes(100) },
      { name: './app/copy.so', content: library },
    ]),
  );
  const zstdLayer = zstd(
    await tarOf([
      { name: 'vendor/libshared.so', content: library },
      { name: 'data/x', content: randomBytes(4000) },
    ]),
  );
  const plainLayer = await tarOf([{ name: 'srv/motd', content: motd }]);
  const notATar = randomBytes(1000);

  const push = async (name: string, tag: string, layers: Buffer[], layerMediaType: string): Promise<void> => {
    const blobs: TestBlob[] = layers.map((bytes) => blobOf(bytes));
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
    for (const blob of [config, ...blobs]) await api.pushBlob(name, blob);
    const manifest = JSON.parse(imageManifest(config, blobs).bytes.toString()) as { layers: { mediaType: string }[] };
    for (const layer of manifest.layers) layer.mediaType = layerMediaType;
    const response = await api.pushManifest(name, tag, blobOf(JSON.stringify(manifest)));
    if (response.status !== 201) throw new Error(`push ${name}:${tag}: ${response.status}`);
  };
  await push('deep/one', 'layered', [lower, upper], MediaType.ociLayerTarGzip);
  await push('deep/two', 'zstd', [zstdLayer], MediaType.ociLayerTarZstd);
  await push('deep/two', 'plain', [plainLayer], MediaType.ociLayerTar);
  await push('deep/three', 'artifact', [notATar], 'application/vnd.example.data');
  return {
    shared: { path: 'usr/lib/libshared.so', size: 8000, copies: 3 },
    duplicateFileBytes: 2 * 8000 + 2500,
    wastedBytes: 20_000 + 5000 + 3000,
    wastedFiles: 3,
    layersScanned: 4,
    layersSkipped: 1,
  };
}
