import { asciiOrder } from '../../storage/repository-store.ts';
import type { Store } from '../../storage/store.ts';
import type { FigureCache } from './figure-cache.ts';
import type { UiCaller } from './ui-caller.ts';

export interface ListedRepository {
  name: string;
  /** Read live for the page's repositories. */
  tags: number;
  /** The rest from the background figures: absent for a repository they do not know yet. */
  lastPush?: string;
  storedBytes?: number;
  uniqueBytes?: number;
  sharedBytes?: number;
}

export interface RepositoryPage {
  repositories: ListedRepository[];
  /** Repositories the search matches (among those the caller may pull). */
  matched: number;
  /** The name after which the next page starts, when there is one. */
  next?: string;
  /** When the byte figures were computed; absent until the first run ends. */
  figuresAt?: string;
  computing: boolean;
}

/**
 * One page of the repositories the caller may pull whose name contains `q` (case-insensitive),
 * in ASCII order after `last`. The names come from the catalog walk `/v2/_catalog` shares
 * (RepositoryStore.recentCatalog); only the page's repositories are read further.
 */
export async function listRepositories(
  store: Store,
  figures: FigureCache,
  caller: UiCaller,
  query: { q: string; n: number; last?: string },
): Promise<RepositoryPage> {
  const needle = query.q.toLowerCase();
  const names = (await store.repositories.recentCatalog()).filter((name) => name.toLowerCase().includes(needle) && caller.may(name, 'pull'));
  const start = query.last === undefined ? 0 : firstAfter(names, query.last);
  const page = names.slice(start, start + query.n);
  const tagLists = await Promise.all(page.map((name) => store.repositories.listTags(name)));
  const known = figures.current();
  const repositories = page.map((name, i): ListedRepository => {
    const figured = known?.repositories.get(name);
    const lastPush = known?.lastPush.get(name);
    return {
      name,
      tags: tagLists[i]?.length ?? 0,
      ...(lastPush ? { lastPush: lastPush.toISOString() } : {}),
      ...(figured ? { storedBytes: figured.storedBytes, uniqueBytes: figured.uniqueBytes, sharedBytes: figured.sharedBytes } : {}),
    };
  });
  const more = start + query.n < names.length;
  return {
    repositories,
    matched: names.length,
    ...(more ? { next: page.at(-1) } : {}),
    ...(known ? { figuresAt: known.at.toISOString() } : {}),
    computing: figures.computing,
  };
}

/** The index of the first name after `last` in a sorted list (binary search: the list may hold 10,000). */
function firstAfter(names: string[], last: string): number {
  let low = 0;
  let high = names.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (asciiOrder(names[middle]!, last) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
