import type { ManifestGraph } from '../storage/manifest-graph.ts';
import { paths } from '../storage/paths.ts';
import type { Store } from '../storage/store.ts';
import { digestsUnder } from '../storage/gc/walk.ts';
import type { RepositoryState } from './retention-plan.ts';

/** Reads what the policies judge a repository by: its tags, its manifests with their times, children and subjects. */
export async function readRepositoryState(store: Store, graph: ManifestGraph, name: string): Promise<RepositoryState> {
  const tags = new Map([...(await store.repositories.tagTargets(name))].map(([tag, digest]) => [tag, digest.toString()]));
  const revisions = await digestsUnder(store.driver, paths.revisionsRoot(name));
  const manifests = await Promise.all(
    revisions.map(async (digest) => {
      const [node, times] = await Promise.all([graph.node(digest), store.times.read(name, digest)]);
      const children = (node?.references ?? []).filter((ref) => ref.role === 'manifest').map((ref) => ref.digest.toString());
      return { digest: digest.toString(), ...times, children, ...(node?.subject ? { subject: node.subject.toString() } : {}) };
    }),
  );
  return { name, tags, manifests };
}
