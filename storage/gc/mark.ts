import pMap from 'p-map';
import type { Digest } from '../../oci/digest.ts';
import type { ManifestGraph, Reach } from '../manifest-graph.ts';
import { paths } from '../paths.ts';
import type { Store } from '../store.ts';
import { digestsUnder, REPOSITORIES_IN_FLIGHT } from './walk.ts';

/** A manifest tags point to, with its tags in the order listed and what it reaches. */
export interface TaggedImage {
  digest: string;
  tags: string[];
  reach: Reach;
}

export interface MarkOptions {
  /** Untagged manifests are not roots: only tags (and referrers of what survives) keep content alive. */
  deleteUntagged?: boolean;
  /**
   * With deleteUntagged, revisions written after this are roots all the same: a push writes an
   * index's children, untagged, before the index that names them.
   */
  untaggedRootsSince?: Date;
  /**
   * Per repository, tags and manifests (digest strings) to mark as if already deleted: a retention
   * plan asks what the store would hold after it, with gc's own mark (analysis/retention.ts).
   */
  without?: ReadonlyMap<string, { tags: ReadonlySet<string>; manifests: ReadonlySet<string> }>;
  /**
   * Told each repository's tagged images, and the repository's place in the catalog, once the mark
   * has walked them: the analysis counts from the mark's own reach instead of walking every image
   * again (issue 29). Repositories are marked several at once, so they come in no set order.
   */
  onRepository?: (name: string, images: TaggedImage[], position: number) => void;
  /** The catalog, where the caller has just walked the repositories (gc's plan): not walked again. */
  catalog?: readonly string[];
}

/** What survives a garbage collection. */
export interface Marks {
  /** Every blob (manifests included) some root reaches, as the graph's digest strings. */
  blobs: Set<string>;
  /** The repositories marked, in catalog order. */
  repositories: string[];
  /** Revisions that do not survive (only with deleteUntagged). */
  dropped: { repository: string; digest: Digest }[];
}

/**
 * The mark phase. Roots are the manifests tags point to, and every revision unless
 * `deleteUntagged`; marks follow index children, configs and layers, then referrers
 * (manifests whose `subject` survives), until nothing new is reached.
 */
export async function mark(store: Store, graph: ManifestGraph, options: MarkOptions = {}): Promise<Marks> {
  const blobs = new Set<string>();
  const names = options.catalog ? [...options.catalog] : await store.repositories.catalog();
  const markRepository = async (name: string, position: number): Promise<Marks['dropped']> => {
    const gone = options.without?.get(name);
    const revisions = (await digestsUnder(store.driver, paths.revisionsRoot(name))).filter((digest) => !gone?.manifests.has(digest.toString()));
    const tagged = new Map<string, { digest: Digest; tags: string[] }>();
    for (const [tag, digest] of await store.repositories.tagTargets(name)) {
      if (gone?.tags.has(tag)) continue;
      // The graph's string: an analysis keeps one per image.
      const key = graph.key(digest);
      const image = tagged.get(key);
      if (image) image.tags.push(tag);
      else tagged.set(key, { digest, tags: [tag] });
    }
    const untaggedRoots = options.deleteUntagged ? await writtenSince(store, name, revisions, options.untaggedRootsSince) : revisions;
    // Without deleteUntagged every revision is a root and survives, referrers included.
    const revisionByKey = options.deleteUntagged ? new Map(revisions.map((digest) => [digest.toString(), digest])) : undefined;
    const surviving = new Set<string>();
    const reaches = new Map<string, Reach>();
    const visited = new Set<string>();
    const pending = [...[...tagged.values()].map((image) => image.digest), ...untaggedRoots];
    for (let digest = pending.pop(); digest; digest = pending.pop()) {
      if (visited.has(digest.toString())) continue;
      visited.add(digest.toString());
      const reach = await graph.reach(digest);
      if (options.onRepository && tagged.has(digest.toString())) reaches.set(digest.toString(), reach);
      for (const key of reach.keys()) {
        blobs.add(key);
        const revision = revisionByKey?.get(key);
        if (!revision || surviving.has(key)) continue;
        surviving.add(key);
        pending.push(...(await store.repositories.referrers(name, revision)).filter((referrer) => !gone?.manifests.has(referrer.toString())));
      }
    }
    options.onRepository?.(
      name,
      [...tagged].map(([key, { tags }]) => ({ digest: key, tags, reach: reaches.get(key)! })),
      position,
    );
    if (!revisionByKey) return [];
    return revisions.filter((digest) => !surviving.has(digest.toString())).map((digest) => ({ repository: name, digest }));
  };
  const dropped = await pMap(names, markRepository, { concurrency: REPOSITORIES_IN_FLIGHT });
  return { blobs, repositories: names, dropped: dropped.flat() };
}

async function writtenSince(store: Store, name: string, revisions: Digest[], since: Date | undefined): Promise<Digest[]> {
  if (!since) return [];
  const written = await Promise.all(revisions.map((digest) => store.driver.stat(paths.revisionLink(name, digest))));
  return revisions.filter((_, i) => (written[i]?.modified ?? since) > since);
}
