import { Digest, DIGEST_ALGORITHMS } from '../../oci/digest.ts';
import { paths } from '../../storage/paths.ts';
import type { Store } from '../../storage/store.ts';

/** Every manifest revision a repository links, tagged or not (`_manifests/revisions/<algorithm>/<hex>`). */
export async function listRevisions(store: Store, name: string): Promise<Digest[]> {
  const root = paths.revisionsRoot(name);
  const lists = await Promise.all(
    Object.keys(DIGEST_ALGORITHMS).map(async (algorithm) => ({ algorithm, hexes: await store.driver.list(`${root}/${algorithm}`) })),
  );
  return lists.flatMap(({ algorithm, hexes }) => hexes.flatMap((hex) => Digest.tryParse(`${algorithm}:${hex}`) ?? []));
}
