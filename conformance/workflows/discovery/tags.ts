import { describe, expectErrorBody, expectJSON, expectStatus, expectThat, type Check } from '../../check.ts';
import { namespace as repo } from '../../operations.ts';
import { state } from './fixtures.ts';

interface TagList {
  name: string;
  tags: string[];
}

/**
 * The spec's "lexical order" reads as case-insensitive in its own gloss, and registries have long
 * sorted byte-wise: either order is accepted, as the official suite now does.
 */
function sortedEitherWay(tags: string[]): boolean {
  const byBytes = [...tags].sort();
  const key = (tag: string) => tag.toLowerCase();
  const caseless = [...tags].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return [byBytes, caseless].some((sorted) => tags.every((tag, i) => tag === sorted[i]));
}

/** Listing tags (end-8a, end-8b). */
export const tagChecks: Check[] = [
  {
    id: 'discovery.tags-list',
    spec: 'end-8a',
    title: 'the tag list holds every tag, in lexical order',
    async run(context) {
      const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list`);
      expectStatus(get, 200, 'GET tags/list');
      const list = expectJSON<TagList>(get, 'GET tags/list');
      expectThat(list.name === repo(context), `tag list names "${list.name}", not "${repo(context)}"`);
      for (const tag of state(context).tags) expectThat(list.tags.includes(tag), `tag list lacks ${tag}: ${describe(get)}`);
      expectThat(sortedEitherWay(list.tags), `tags are not in lexical order: ${list.tags.join(', ')}`);
    },
  },
  {
    id: 'discovery.tags-unknown-repository',
    spec: 'end-8a',
    title: 'the tag list of a repository that does not exist answers 404 (NAME_UNKNOWN if the body is JSON)',
    standalone: true,
    async run(context) {
      const get = await context.client.request('GET', `/v2/${repo(context)}/no-such-repository/tags/list`);
      expectStatus(get, 404, 'GET tags/list of a missing repository');
      expectErrorBody(get, 'GET tags/list of a missing repository', ['NAME_UNKNOWN'], { onlyIfJSON: true });
    },
  },
  {
    id: 'discovery.tags-n',
    spec: 'end-8b',
    title: 'n limits the list to n tags, with Link rel="next" when more follow',
    async run(context) {
      const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=2`);
      expectStatus(get, 200, 'GET tags/list?n=2');
      const list = expectJSON<TagList>(get, 'GET tags/list?n=2');
      const link = get.headers.get('link');
      expectThat(list.tags.length === 2 || (list.tags.length < 2 && link !== null), `n=2 returned ${list.tags.length} tags: ${describe(get, ['link'])}`);
      if (link !== null) expectThat(/<[^>]+>;\s*rel="next"/.test(link), `Link is not RFC 5988 rel="next": ${link}`);
    },
  },
  {
    id: 'discovery.tags-last',
    spec: 'end-8b',
    title: 'last starts the list after the named tag',
    async run(context) {
      const tags = state(context).tags;
      const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=2&last=${tags[1]}`);
      expectStatus(get, 200, `GET tags/list?n=2&last=${tags[1]}`);
      const list = expectJSON<TagList>(get, 'GET tags/list with last');
      expectThat(list.tags[0] === tags[2] && list.tags[1] === tags[3], `after ${tags[1]} expected ${tags[2]}, ${tags[3]}, got ${list.tags.join(', ')}`);
    },
  },
  {
    id: 'discovery.tags-n-zero',
    spec: 'end-8b (main)',
    title: 'n=0 returns an empty list and no Link',
    async run(context) {
      const get = await context.client.request('GET', `/v2/${repo(context)}/tags/list?n=0`);
      expectStatus(get, 200, 'GET tags/list?n=0');
      const list = expectJSON<TagList>(get, 'GET tags/list?n=0');
      expectThat(list.tags.length === 0, `n=0 returned ${list.tags.length} tags`);
      expectThat(get.headers.get('link') === null, `n=0 must not send Link: ${describe(get, ['link'])}`);
    },
  },
];
