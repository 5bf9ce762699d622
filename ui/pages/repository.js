import { get } from '../api.js';
import { deleteManifest, deleteTag } from '../delete-actions.js';
import { fill, h } from '../dom.js';
import { formatBytes, formatTime, plural, shortDigest } from '../format.js';
import { arrowNavigation } from '../list-keys.js';

export const imageHref = (repository, digest) => `#/image/${encodeURIComponent(repository)}/${digest}`;

function kindOf(manifest) {
  if (manifest.artifactType) return manifest.artifactType;
  return manifest.kind === 'index' ? 'index' : manifest.kind === 'image' ? 'image' : manifest.mediaType;
}

/** Rows for a manifest's referrers (signatures, SBOMs, attestations), indented under it. */
function referrerRows(repository, manifest, depth = 1) {
  return manifest.referrers.flatMap((referrer) => [
    h(
      'tr',
      { class: 'referrer' },
      h('td', { class: `indent-${depth}` }, h('span', { 'aria-hidden': 'true' }, '↳ '), 'referrer'),
      h('td', {}, h('a', { href: imageHref(repository, referrer.digest) }, shortDigest(referrer.digest))),
      h('td', {}, kindOf(referrer)),
      h('td', { class: 'number' }, formatBytes(referrer.bytes)),
      h('td', {}, formatTime(referrer.pushed)),
      h('td', {}, formatTime(referrer.pulled)),
      h('td', {}),
    ),
    ...referrerRows(repository, referrer, depth + 1),
  ]);
}

/** A repository: its tags a page at a time, each with its image, referrers under their subject, untagged manifests apart. */
export async function repositoryPage(main, name, query, rerender) {
  const last = query.get('last') ?? undefined;
  const view = await get('repository', { name, last });
  const byDigest = new Map(view.manifests.map((manifest) => [manifest.digest, manifest]));
  const headers = (first) =>
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [first, 'Digest', 'Type and platforms', 'Size', 'Pushed', 'Last pulled', 'Actions'].map((title) => h('th', { scope: 'col' }, title)),
      ),
    );
  /** A manifest's row under `label` (its tag, or "(untagged)"), with the delete a user may make of it. */
  const row = (label, manifest, remove) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, label),
      h('td', {}, h('a', { href: imageHref(name, manifest.digest) }, shortDigest(manifest.digest))),
      h('td', {}, `${kindOf(manifest)}${manifest.platforms.length ? `: ${manifest.platforms.join(', ')}` : ''}`),
      h('td', { class: 'number' }, formatBytes(manifest.bytes)),
      h('td', {}, formatTime(manifest.pushed)),
      h('td', {}, formatTime(manifest.pulled)),
      h(
        'td',
        {},
        view.mayDelete
          ? h('button', { type: 'button', onclick: remove.action }, remove.label, h('span', { class: 'visually-hidden' }, ` ${remove.what}`))
          : null,
      ),
    );
  const shown = new Set();
  const tagRows = view.tags.flatMap(({ tag, digest }) => {
    const manifest = byDigest.get(digest);
    const first = !shown.has(digest);
    shown.add(digest);
    return [
      row(tag, manifest, { label: 'Delete tag', what: tag, action: () => deleteTag(name, tag, manifest.tags, rerender) }),
      ...(first ? referrerRows(name, manifest) : []),
    ];
  });
  const tagTable = h('table', { class: 'list', id: 'tags' }, h('caption', {}, `Tags of ${name}`), headers('Tag'), h('tbody', {}, tagRows));
  arrowNavigation(tagTable);
  const untaggedRows = view.untagged.flatMap((manifest) => [
    row('(untagged)', manifest, { label: 'Delete manifest', what: manifest.digest, action: () => deleteManifest(name, manifest.digest, [], rerender) }),
    ...referrerRows(name, manifest),
  ]);
  const untaggedTable = h(
    'table',
    { class: 'list', id: 'untagged' },
    h('caption', {}, `Untagged manifests of ${name}`),
    headers('Tag'),
    h('tbody', {}, untaggedRows),
  );
  arrowNavigation(untaggedTable);
  const pages = h(
    'nav',
    { 'aria-label': 'Tag pages', class: 'pages' },
    last ? h('a', { href: `#/repository/${encodeURIComponent(name)}` }, 'First tags') : null,
    view.next ? h('a', { href: `#/repository/${encodeURIComponent(name)}?${new URLSearchParams({ last: view.next })}`, rel: 'next' }, 'Next tags') : null,
  );
  fill(
    main,
    h('h1', {}, name),
    h('p', {}, `${plural(view.tagCount, 'tag')}, ${plural(view.untaggedCount, 'untagged manifest')}.`),
    h('h2', {}, 'Tags'),
    view.tags.length ? tagTable : h('p', {}, 'No tags.'),
    pages,
    h('h2', {}, 'Untagged manifests'),
    view.untagged.length
      ? [untaggedTable, view.untaggedCount > view.untagged.length ? h('p', {}, `Showing ${view.untagged.length} of ${view.untaggedCount}.`) : null]
      : h('p', {}, 'None: every manifest is tagged, a platform of a tagged index, or a referrer.'),
  );
}
