import { request } from './api.js';
import { confirmAction } from './confirm.js';
import { announce, h, showError } from './dom.js';
import { shortDigest } from './format.js';

/** Deletes one tag after a confirmation: the manifest and its other tags stay. */
export async function deleteTag(repository, tag, siblings, done) {
  const others = siblings.filter((sibling) => sibling !== tag);
  const confirmed = await confirmAction({
    title: `Delete tag ${repository}:${tag}?`,
    body: h(
      'p',
      {},
      `Only the tag goes. ${others.length ? `The image stays, with its other tags: ${others.join(', ')}.` : 'The image stays, untagged, until it is deleted or collected.'}`,
    ),
    confirm: 'Delete tag',
  });
  if (!confirmed) return;
  await act(() => request('DELETE', 'tag', { name: repository, tag }), `Deleted tag ${tag}.`, done);
}

/** Deletes a manifest after showing every tag that goes with it. */
export async function deleteManifest(repository, digest, tags, done) {
  const confirmed = await confirmAction({
    title: `Delete manifest ${shortDigest(digest)}?`,
    body: h(
      'div',
      {},
      h('p', {}, `This deletes the manifest ${digest} from ${repository}.`),
      tags.length
        ? [
            h('p', {}, 'These tags name it and are deleted with it:'),
            h(
              'ul',
              { class: 'doomed-tags' },
              tags.map((tag) => h('li', {}, tag)),
            ),
          ]
        : h('p', {}, 'No tag names it.'),
    ),
    confirm: tags.length ? `Delete manifest and ${tags.length} tag${tags.length === 1 ? '' : 's'}` : 'Delete manifest',
  });
  if (!confirmed) return;
  await act(() => request('DELETE', 'manifest', { name: repository, digest, tags: tags.join(',') }), `Deleted manifest ${shortDigest(digest)}.`, done);
}

async function act(work, success, done) {
  try {
    await work();
  } catch (error) {
    showError(`Not deleted: ${error.message}`);
    return;
  }
  announce(success);
  done();
}
