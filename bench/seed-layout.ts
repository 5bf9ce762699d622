import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LINK = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';

/**
 * Writes a repository's tags straight into a filesystem root in Distribution's layout, which
 * both servers read: 10,000 pushes over HTTP would measure the push, not the listing. A layer
 * link too, since Distribution's catalog finds repositories by their `_layers`.
 */
export async function seedRepository(root: string, repository: string, tags: string[]): Promise<void> {
  const layer = join(root, 'docker/registry/v2/repositories', repository, '_layers/sha256', LINK.slice(7));
  await mkdir(layer, { recursive: true });
  await writeFile(join(layer, 'link'), LINK);
  const base = join(root, 'docker/registry/v2/repositories', repository, '_manifests/tags');
  for (let i = 0; i < tags.length; i += 200) {
    await Promise.all(
      tags.slice(i, i + 200).map(async (tag) => {
        await mkdir(join(base, tag, 'current'), { recursive: true });
        await writeFile(join(base, tag, 'current/link'), LINK);
      }),
    );
  }
}
