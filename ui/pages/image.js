import { get } from '../api.js';
import { deleteManifest } from '../delete-actions.js';
import { announce, fill, h } from '../dom.js';
import { formatBytes, formatTime, plural, shortDigest } from '../format.js';
import { arrowNavigation } from '../list-keys.js';
import { repositoryHref } from './repositories.js';
import { imageHref } from './repository.js';

/** A read-only command with a button copying it (the field can be selected by hand too). */
function pullCommand(id, label, command) {
  const field = h('input', { id, type: 'text', readonly: true, value: command, size: Math.min(command.length, 90) });
  const copy = async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(command);
    } catch {
      document.execCommand('copy');
    }
    announce(`Copied: ${command}`);
  };
  return h(
    'div',
    { class: 'command' },
    h('label', { for: id }, label),
    field,
    h('button', { type: 'button', onclick: copy }, 'Copy', h('span', { class: 'visually-hidden' }, ` ${label}`)),
  );
}

function definitionList(entries) {
  const shown = entries.filter(([, value]) => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0));
  return h(
    'dl',
    {},
    shown.map(([term, value]) => [h('dt', {}, term), h('dd', {}, Array.isArray(value) ? h('code', {}, JSON.stringify(value)) : value)]),
  );
}

function sharingCell(layer) {
  if (layer.sharedWith === null) return 'being computed…';
  if (layer.sharedWithCount === 0) return 'no other image';
  return h(
    'details',
    {},
    h('summary', {}, `${plural(layer.sharedWithCount, 'image')} in ${plural(layer.sharedRepositories, 'repository', 'repositories')}`),
    h(
      'ul',
      { class: 'sharing' },
      layer.sharedWith.map((image) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: imageHref(image.repository, image.digest) },
            `${image.repository}${image.tags.length ? `:${image.tags.join(', ')}` : `@${shortDigest(image.digest)}`}`,
          ),
        ),
      ),
      layer.sharedWithCount > layer.sharedWith.length ? h('li', {}, `and ${layer.sharedWithCount - layer.sharedWith.length} more`) : null,
    ),
  );
}

function layersSection(view) {
  const rows = view.layers.map((layer, i) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, i + 1),
      h('td', {}, h('code', { title: layer.digest }, shortDigest(layer.digest))),
      h('td', {}, layer.mediaType),
      h('td', { class: 'number' }, formatBytes(layer.size)),
      h('td', {}, sharingCell(layer)),
    ),
  );
  return [
    h('h2', {}, 'Layers'),
    h(
      'table',
      { class: 'list', id: 'layers' },
      h('caption', {}, `${plural(view.layers.length, 'layer')}; shared with: other tagged images reaching the same blob`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', 'Digest', 'Media type', 'Size', 'Shared with'].map((title) => h('th', { scope: 'col' }, title)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  ];
}

function configSection(view) {
  const content = view.config.content ?? {};
  const config = content.config ?? {};
  const labels = Object.entries(config.Labels ?? {});
  const history = content.history ?? [];
  return [
    h('h2', {}, 'Configuration'),
    definitionList([
      ['Digest', h('code', {}, view.config.digest)],
      ['Created', formatTime(content.created)],
      ['Platform', [content.os, content.architecture, content.variant].filter(Boolean).join('/')],
      ['Author', content.author],
      ['Entrypoint', config.Entrypoint],
      ['Command', config.Cmd],
      ['Working directory', config.WorkingDir],
      ['User', config.User],
      ['Exposed ports', config.ExposedPorts ? Object.keys(config.ExposedPorts) : undefined],
    ]),
    h('h3', {}, 'Environment'),
    (config.Env ?? []).length
      ? h(
          'ul',
          { class: 'env' },
          config.Env.map((line) => h('li', {}, h('code', {}, line))),
        )
      : h('p', {}, 'None.'),
    h('h3', {}, 'Labels'),
    labels.length
      ? h(
          'table',
          { class: 'list' },
          h('caption', {}, 'Labels'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Label'), h('th', { scope: 'col' }, 'Value'))),
          h(
            'tbody',
            {},
            labels.map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, value))),
          ),
        )
      : h('p', {}, 'None.'),
    h('h3', {}, 'History'),
    history.length
      ? h(
          'ol',
          { class: 'history' },
          history.map((step) =>
            h(
              'li',
              {},
              h('code', {}, step.created_by ?? step.comment ?? '(no command)'),
              step.empty_layer ? h('span', { class: 'note' }, ' (no layer)') : null,
            ),
          ),
        )
      : h('p', {}, 'No build steps recorded.'),
  ];
}

function platformsSection(view) {
  const table = h(
    'table',
    { class: 'list', id: 'platforms' },
    h('caption', {}, 'Platforms of this index'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Platform', 'Digest', 'Size'].map((title) => h('th', { scope: 'col' }, title)),
      ),
    ),
    h(
      'tbody',
      {},
      view.manifests.map((child) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, child.platform ?? child.platforms.join(', ') ?? '—'),
          h('td', {}, h('a', { href: imageHref(view.repository, child.digest) }, shortDigest(child.digest))),
          h('td', { class: 'number' }, formatBytes(child.bytes)),
        ),
      ),
    ),
  );
  arrowNavigation(table);
  return [h('h2', {}, 'Platforms'), table];
}

/** An image: an index's platforms, or a manifest's layers with their sharing and its config; pull commands; delete. */
export async function imagePage(main, repository, digest, rerender) {
  const view = await get('image', { name: repository, digest });
  const host = location.host;
  const reference = `${host}/${repository}${view.tags.length ? `:${view.tags[0]}` : `@${digest}`}`;
  const byDigest = `${host}/${repository}@${digest}`;
  const afterDelete = () => {
    location.hash = repositoryHref(repository);
  };
  fill(
    main,
    h('p', { class: 'breadcrumb' }, h('a', { href: repositoryHref(repository) }, repository)),
    h('h1', {}, `${repository}${view.tags.length ? `:${view.tags.join(', ')}` : `@${shortDigest(digest)}`}`),
    definitionList([
      ['Digest', h('code', {}, digest)],
      ['Media type', view.mediaType],
      ['Artifact type', view.artifactType],
      ['Size', `${formatBytes(view.bytes)} (every blob it reaches, each once)`],
      ['Platforms', view.platforms.join(', ')],
      ['Pushed', formatTime(view.pushed)],
      ['Last pulled', formatTime(view.pulled)],
      ['Subject', view.subject ? h('a', { href: imageHref(repository, view.subject) }, shortDigest(view.subject)) : undefined],
    ]),
    h('h2', {}, 'Pull'),
    pullCommand('pull-docker', 'docker', `docker pull ${reference}`),
    pullCommand('pull-podman', 'podman', `podman pull ${reference}`),
    pullCommand('pull-berth', 'berth', `berth pull ${byDigest}`),
    view.manifests ? platformsSection(view) : null,
    view.layers ? layersSection(view) : null,
    view.config ? configSection(view) : null,
    h('h2', {}, 'Referrers'),
    view.referrers.length
      ? h(
          'ul',
          { class: 'referrers' },
          view.referrers.map((referrer) =>
            h(
              'li',
              {},
              h('a', { href: imageHref(repository, referrer.digest) }, shortDigest(referrer.digest)),
              ` ${referrer.artifactType ?? referrer.mediaType}, ${formatBytes(referrer.bytes)}`,
            ),
          ),
        )
      : h('p', {}, 'No signatures, SBOMs or attestations refer to it.'),
    view.mayDelete
      ? [
          h('h2', {}, 'Delete'),
          h('button', { type: 'button', class: 'danger', onclick: () => deleteManifest(repository, digest, view.tags, afterDelete) }, 'Delete manifest'),
        ]
      : null,
  );
  if (view.layers && view.layers.some((layer) => layer.sharedWith === null)) setTimeout(rerender, 2000);
}
