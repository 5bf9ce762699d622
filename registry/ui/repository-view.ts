import type { Digest } from '../../oci/digest.ts';
import type { Store } from '../../storage/store.ts';
import { RegistryError } from '../errors.ts';
import pMap from 'p-map';
import { ManifestReader } from './manifest-reader.ts';
import { summarize, type ManifestSummary } from './manifest-summary.ts';
import { listRevisions } from './revisions.ts';

/** A manifest with the tags naming it and its referrers, nested under their subject. */
export interface ListedManifest extends ManifestSummary {
  tags: string[];
  referrers: ListedManifest[];
}

export interface RepositoryView {
  name: string;
  /** Every tag of the repository, however many this page shows. */
  tagCount: number;
  /** This page's tags in ASCII order, each with the manifest it names. */
  tags: { tag: string; digest: string }[];
  /** The manifests this page's tags name, each once. */
  manifests: ListedManifest[];
  /** The tag after which the next page starts, when there is one. */
  next?: string;
  /** Manifests no tag names, that are neither a tagged index's platform nor a referrer. */
  untagged: ListedManifest[];
  untaggedCount: number;
}

/** Untagged manifests listed on the page; the count says how many there are in all. */
const MAX_UNTAGGED = 100;
/** Referrers listed under one subject. */
const MAX_REFERRERS = 50;

/**
 * A repository's page: one page of tags, its untagged manifests apart, referrers under their
 * subject. Read live (a push shows at once): the tags' links, the revisions and each manifest once.
 */
export async function viewRepository(store: Store, name: string, page: { n: number; last?: string }): Promise<RepositoryView> {
  const [targets, revisions] = await Promise.all([store.repositories.tagTargets(name), listRevisions(store, name)]);
  if (targets.size === 0 && revisions.length === 0 && !(await store.repositories.exists(name))) {
    throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known`, { detail: { name } });
  }
  const reader = new ManifestReader(store);
  const manifests = await pMap(revisions, async (digest) => ({ digest, manifest: await reader.manifest(digest) }), { concurrency: 32 });
  const referrers = new Map<string, Digest[]>();
  const children = new Set<string>();
  for (const { digest, manifest } of manifests) if (manifest?.subject) append(referrers, manifest.subject.digest.toString(), digest);
  const tagged = new Set([...targets.values()].map(String));
  for (const { digest, manifest } of manifests) {
    if (tagged.has(digest.toString()) && manifest?.kind === 'index') for (const child of manifest.manifests) children.add(child.digest.toString());
  }
  const list = async (digest: Digest, tags: string[], depth = 0): Promise<ListedManifest> => {
    const own = depth < 2 ? (referrers.get(digest.toString()) ?? []).slice(0, MAX_REFERRERS) : [];
    const [summary, nested] = await Promise.all([summarize(store, reader, name, digest), Promise.all(own.map((referrer) => list(referrer, [], depth + 1)))]);
    return { ...summary, tags, referrers: nested };
  };

  const allTags = [...targets.keys()];
  const start = page.last === undefined ? 0 : allTags.findIndex((tag) => tag > page.last!);
  const pageTags = start < 0 ? [] : allTags.slice(start, start + page.n);
  const pageDigests = new Map<string, Digest>();
  for (const tag of pageTags) pageDigests.set(targets.get(tag)!.toString(), targets.get(tag)!);
  const tagsByDigest = new Map<string, string[]>();
  for (const [tag, digest] of targets) append(tagsByDigest, digest.toString(), tag);
  const untagged = manifests.filter(({ digest, manifest }) => !tagged.has(digest.toString()) && !children.has(digest.toString()) && !manifest?.subject);
  const [listed, untaggedListed] = await Promise.all([
    pMap([...pageDigests], ([key, digest]) => list(digest, tagsByDigest.get(key) ?? []), { concurrency: 16 }),
    pMap(untagged.slice(0, MAX_UNTAGGED), ({ digest }) => list(digest, []), { concurrency: 16 }),
  ]);
  const more = start >= 0 && start + page.n < allTags.length;
  return {
    name,
    tagCount: allTags.length,
    tags: pageTags.map((tag) => ({ tag, digest: targets.get(tag)!.toString() })),
    manifests: listed,
    ...(more ? { next: pageTags.at(-1) } : {}),
    untagged: untaggedListed.sort((a, b) => (b.pushed ?? '').localeCompare(a.pushed ?? '')),
    untaggedCount: untagged.length,
  };
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
