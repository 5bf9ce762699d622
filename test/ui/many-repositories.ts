import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Digest } from '../../oci/digest.ts';
import { paths } from '../../storage/paths.ts';
import { blobOf, imageManifest, type TestBlob } from '../helpers/content.ts';

/** The name of the i-th generated repository: sorted as numbered, in ten groups. */
export const generatedName = (i: number): string => `group-${i % 10}/app-${String(i).padStart(5, '0')}`;

/**
 * Writes `count` repositories straight into the storage layout under `root` (what a push leaves,
 * without pushing: a few thousand pushes would take minutes): one shared layer and config, and per
 * repository a manifest of its own tagged `latest`.
 */
export async function writeRepositories(root: string, count: number): Promise<void> {
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = blobOf('a layer every generated image shares');
  const put = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  const putBlob = (blob: TestBlob) => put(paths.blobData(blob.digest), blob.bytes);
  await Promise.all([putBlob(config), putBlob(layer)]);
  const writeOne = async (i: number) => {
    const name = generatedName(i);
    const manifest = imageManifest(config, [layer], { annotations: { 'org.example.index': String(i) } });
    const link = (path: string, digest: Digest) => put(path, digest.toString());
    await Promise.all([
      putBlob(manifest),
      link(paths.layerLink(name, config.digest), config.digest),
      link(paths.layerLink(name, layer.digest), layer.digest),
      link(paths.revisionLink(name, manifest.digest), manifest.digest),
      link(paths.tagCurrentLink(name, 'latest'), manifest.digest),
      link(paths.tagIndexLink(name, 'latest', manifest.digest), manifest.digest),
    ]);
  };
  for (let start = 0; start < count; start += 100) await Promise.all(Array.from({ length: Math.min(100, count - start) }, (_, k) => writeOne(start + k)));
}
