import { get } from '../api.js';
import { fill, h } from '../dom.js';
import { formatBytes, formatTime, plural } from '../format.js';
import { arrowNavigation } from '../list-keys.js';

export const repositoryHref = (name) => `#/repository/${encodeURIComponent(name)}`;

/** The repositories page: a search box and one page of repositories, read from the server a page at a time. */
export async function repositoriesPage(main, query, rerender) {
  const q = query.get('q') ?? '';
  const last = query.get('last') ?? undefined;
  const page = await get('repositories', { q, last, n: query.get('n') ?? undefined });
  const input = h('input', { type: 'search', id: 'search', name: 'q', value: q, autocomplete: 'off' });
  const form = h(
    'form',
    {
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        location.hash = `#/?${new URLSearchParams(input.value ? { q: input.value } : {})}`;
      },
    },
    h('label', { for: 'search' }, 'Search repositories'),
    input,
    h('button', { type: 'submit' }, 'Search'),
  );
  const figures = page.figuresAt ? `Sizes as of ${formatTime(page.figuresAt)}${page.computing ? ' (updating)' : ''}.` : 'Sizes are being computed…';
  const rows = page.repositories.map((repository) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: repositoryHref(repository.name) }, repository.name)),
      h('td', { class: 'number' }, repository.tags),
      h('td', {}, formatTime(repository.lastPush)),
      h('td', { class: 'number' }, formatBytes(repository.storedBytes)),
      h('td', { class: 'number' }, formatBytes(repository.uniqueBytes)),
      h('td', { class: 'number' }, formatBytes(repository.sharedBytes)),
    ),
  );
  const table = h(
    'table',
    { class: 'list', id: 'repositories' },
    h('caption', {}, q ? `Repositories matching “${q}”` : 'Repositories'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Repository', 'Tags', 'Last push', 'Stored', 'Unique', 'Shared'].map((title) => h('th', { scope: 'col' }, title)),
      ),
    ),
    h('tbody', {}, rows),
  );
  arrowNavigation(table);
  const pages = h(
    'nav',
    { 'aria-label': 'Pages', class: 'pages' },
    last ? h('a', { href: `#/?${new URLSearchParams(q ? { q } : {})}` }, 'First page') : null,
    page.next ? h('a', { href: `#/?${new URLSearchParams({ ...(q ? { q } : {}), last: page.next })}`, rel: 'next' }, 'Next page') : null,
  );
  fill(
    main,
    h('h1', {}, 'Repositories'),
    form,
    h('p', { id: 'summary' }, `${plural(page.matched, 'repository', 'repositories')}${q ? (page.matched === 1 ? ' matches' : ' match') : ''}. ${figures}`),
    page.repositories.length ? table : h('p', {}, q ? 'No repository matches.' : 'No repositories yet.'),
    pages,
  );
  // Sizes come from a background run: look again once it has had time to finish.
  if (!page.figuresAt || page.computing) setTimeout(rerender, 2000);
}
