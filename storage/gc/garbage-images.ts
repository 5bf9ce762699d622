import { Digest } from '../../oci/digest.ts';
import type { GarbagePlan } from './gc-plan.ts';
import type { ManifestGraph, Reference } from '../manifest-graph.ts';
import { paths } from '../paths.ts';
import type { Store } from '../store.ts';
import type { StoredBlobs } from './stored-blobs.ts';
import { repositoryDirectories, repositoryLinks, type StoredBlob } from './walk.ts';

/**
 * Manifests are small (the registry refuses pushes over 4 MiB): a larger unreferenced blob is a
 * layer, and is not read whole to find out.
 */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * The images the plan's unreferenced blobs belonged to, so gc's report can say what goes, not
 * only which digests: blob digest → image references (`repository@digest`, or
 * `repository:tag@digest` when a tag's history lists the manifest and the tag has moved on).
 * A blob no remaining manifest reaches (an upload never named, a manifest already swept) gets none.
 *
 * The names come from the manifests that go themselves: revisions the plan drops (their
 * repository is known), and manifest blobs no revision links any more (deleted by digest), which
 * are placed in the repositories still linking everything they reference. A manifest reached by
 * another one that goes (an index's platform manifest) is named through that one.
 */
export async function imagesOfGarbage(store: Store, graph: ManifestGraph, plan: GarbagePlan): Promise<Map<string, string[]>> {
  const manifests = await garbageManifests(graph, plan.unreferenced);
  const dropped = new Map<string, Set<string>>();
  for (const { repository, digest } of plan.revisions) addTo(dropped, digest.toString(), repository);
  const placed = await placeManifests(store, manifests, plan.stored, dropped);

  const children = new Set(
    [...manifests.values()]
      .flat()
      .filter((ref) => ref.role === 'manifest')
      .map((ref) => ref.digest.toString()),
  );
  const garbage = new Set(plan.unreferenced.map((blob) => blob.digest.toString()));
  const images = new Map<string, Set<string>>();
  for (const [key, repositories] of placed) {
    if (children.has(key) || !garbage.has(key)) continue;
    const digest = Digest.parse(key);
    const names = (await Promise.all([...repositories].map((repository) => imageNames(store, repository, digest)))).flat();
    for (const reached of (await graph.reach(digest)).keys()) {
      if (garbage.has(reached)) for (const name of names) addTo(images, reached, name);
    }
  }
  return new Map([...images].map(([key, names]) => [key, [...names].sort()]));
}

/** The unreferenced blobs that are manifests, with what each references. */
async function garbageManifests(graph: ManifestGraph, unreferenced: StoredBlob[]): Promise<Map<string, Reference[]>> {
  const manifests = new Map<string, Reference[]>();
  for (const blob of unreferenced) {
    if (blob.size > MAX_MANIFEST_BYTES) continue;
    // Anything that is not a manifest (a config, a small layer) parses to no references.
    const references = (await graph.node(blob.digest))?.references ?? [];
    if (references.length) manifests.set(blob.digest.toString(), references);
  }
  return manifests;
}

/**
 * The repositories each manifest was in: for a dropped revision, its own (`known`); else those
 * linking every stored blob it references (a push links each into the repository, and only gc
 * unlinks them), a child manifest that goes too counting where it was placed. Content
 * addressing rules out cycles.
 */
async function placeManifests(
  store: Store,
  manifests: Map<string, Reference[]>,
  stored: StoredBlobs,
  known: Map<string, Set<string>>,
): Promise<Map<string, Set<string>>> {
  const placed = new Map(known);
  if ([...manifests.keys()].every((key) => placed.has(key))) return placed;
  const wanted = new Set([...manifests.values()].flat().map((ref) => ref.digest.toString()));
  const linkedIn = new Map<string, Set<string>>();
  for (const name of await repositoryDirectories(store.driver)) {
    for (const key of await repositoryLinks(store.driver, name)) if (wanted.has(key)) addTo(linkedIn, key, name);
  }
  const place = (key: string): Set<string> => {
    const known = placed.get(key);
    if (known) return known;
    let repositories: Set<string> | undefined;
    for (const ref of manifests.get(key) ?? []) {
      const child = ref.digest.toString();
      if (!stored.has(child)) continue;
      const holding = new Set([...(linkedIn.get(child) ?? []), ...(manifests.has(child) ? place(child) : [])]);
      repositories = new Set([...(repositories ?? holding)].filter((name) => holding.has(name)));
    }
    placed.set(key, repositories ?? new Set());
    return placed.get(key)!;
  };
  for (const key of manifests.keys()) place(key);
  return placed;
}

/** `repository@digest`, or one `repository:tag@digest` per tag whose history (Distribution's tag index) lists the manifest. */
async function imageNames(store: Store, repository: string, digest: Digest): Promise<string[]> {
  const tags = (await store.repositories.listTags(repository)) ?? [];
  const listed = await Promise.all(tags.map((tag) => store.driver.stat(paths.tagIndexLink(repository, tag, digest))));
  const former = tags.filter((_, i) => listed[i] !== undefined);
  return former.length ? former.map((tag) => `${repository}:${tag}@${digest}`) : [`${repository}@${digest}`];
}

function addTo<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  const values = map.get(key) ?? new Set<V>();
  values.add(value);
  map.set(key, values);
}
