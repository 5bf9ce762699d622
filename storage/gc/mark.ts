import pMap from 'p-map';
import type { Digest } from '../../oci/digest.ts';
import type { ManifestGraph } from '../manifest-graph.ts';
import { paths } from '../paths.ts';
import type { Store } from '../store.ts';
import { digestsUnder, REPOSITORIES_IN_FLIGHT } from './walk.ts';

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
}

/** What survives a garbage collection. */
export interface Marks {
  /** Every blob (manifests included) some root reaches, as digest strings. */
  blobs: Set<string>;
  /** Per repository: its revisions, and those of them that survive. */
  repositories: Map<string, { revisions: Digest[]; surviving: Set<string> }>;
}

/**
 * The mark phase. Roots are the manifests tags point to, and every revision unless
 * `deleteUntagged`; marks follow index children, configs and layers, then referrers
 * (manifests whose `subject` survives), until nothing new is reached.
 */
export async function mark(store: Store, graph: ManifestGraph, options: MarkOptions = {}): Promise<Marks> {
  const blobs = new Set<string>();
  const names = await store.repositories.catalog();
  const markRepository = async (name: string): Promise<{ revisions: Digest[]; surviving: Set<string> }> => {
    const gone = options.without?.get(name);
    const revisions = (await digestsUnder(store.driver, paths.revisionsRoot(name))).filter((digest) => !gone?.manifests.has(digest.toString()));
    const tagged = [...(await store.repositories.tagTargets(name))].filter(([tag]) => !gone?.tags.has(tag)).map(([, digest]) => digest);
    const untaggedRoots = options.deleteUntagged ? await writtenSince(store, name, revisions, options.untaggedRootsSince) : revisions;
    const roots = [...tagged, ...untaggedRoots];
    const revisionByKey = new Map(revisions.map((digest) => [digest.toString(), digest]));
    const surviving = new Set<string>();
    const visited = new Set<string>();
    const pending = [...roots];
    for (let digest = pending.pop(); digest; digest = pending.pop()) {
      if (visited.has(digest.toString())) continue;
      visited.add(digest.toString());
      for (const key of (await graph.reach(digest)).keys()) {
        blobs.add(key);
        const revision = revisionByKey.get(key);
        if (!revision || surviving.has(key)) continue;
        surviving.add(key);
        // Without deleteUntagged every revision is a root already, referrers included.
        if (options.deleteUntagged) {
          pending.push(...(await store.repositories.referrers(name, revision)).filter((referrer) => !gone?.manifests.has(referrer.toString())));
        }
      }
    }
    return { revisions, surviving };
  };
  const marked = await pMap(names, markRepository, { concurrency: REPOSITORIES_IN_FLIGHT });
  return { blobs, repositories: new Map(names.map((name, i) => [name, marked[i]!])) };
}

async function writtenSince(store: Store, name: string, revisions: Digest[], since: Date | undefined): Promise<Digest[]> {
  if (!since) return [];
  const written = await Promise.all(revisions.map((digest) => store.driver.stat(paths.revisionLink(name, digest))));
  return revisions.filter((_, i) => (written[i]?.modified ?? since) > since);
}
