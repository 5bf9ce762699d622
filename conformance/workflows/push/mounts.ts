import { CheckSkipped, describe, expectStatus, expectThat, locationPath, type Check, type CheckContext } from '../../check.ts';
import { randomContent, type Content } from '../../content.ts';
import type { Exchange } from '../../http.ts';
import { namespace as repo, pushBlob } from '../../operations.ts';
import { expectBlob, pushed, state } from './session.ts';

/** Pushes `blob` to the cross-mount repository, then asks to mount it here with `query` (end-11). */
async function requestMount(context: CheckContext, blob: Content, query: string): Promise<Exchange> {
  await pushBlob(context, context.options.crossmountNamespace, blob);
  state(context).mountedBlobs.add(`${blob.digest}`);
  const mount = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?mount=${blob.digest}${query}`);
  pushed(context, blob);
  return mount;
}

/** A mount answered 202 opened an upload session instead: its Location is one of this repository's. */
function expectUploadSession(context: CheckContext, mount: Exchange, what: string): string {
  const path = locationPath(mount) ?? '';
  const uploads = `/v2/${repo(context)}/blobs/uploads/`;
  expectThat(path.startsWith(uploads), `${what}: expected a Location under ${uploads}, got ${describe(mount, ['location'])}`);
  return path;
}

/** Cross-repository mounts (end-11), with `from` and without it (automatic). */
export const mountChecks: Check[] = [
  {
    id: 'push.mount-from',
    spec: 'end-11',
    title: 'mount from another repository with `from` answers 201 with the blob as Location, which then serves it',
    async run(context) {
      const blob = randomContent(1500);
      const mount = await requestMount(context, blob, `&from=${context.options.crossmountNamespace}`);
      expectStatus(mount, [201, 202], 'POST with mount and from', ['location']);
      if (mount.status === 202) {
        await context.client.request('DELETE', expectUploadSession(context, mount, 'POST with mount and from'));
        throw new CheckSkipped('the registry does not mount across repositories (202, an upload session instead; optional)');
      }
      const blobPath = `/v2/${repo(context)}/blobs/${blob.digest}`;
      expectThat(locationPath(mount) === blobPath, `mount: expected Location ${blobPath}, got ${describe(mount, ['location'])}`);
      await expectBlob(context, repo(context), blob, 'GET the mounted blob at its Location');
    },
  },
  {
    id: 'push.mount-unknown',
    spec: 'end-11',
    title: 'mount of a blob no repository holds, with or without `from`, answers 202 with an upload session as Location',
    standalone: true,
    async run(context) {
      const missing = randomContent().digest;
      for (const query of [`&from=${context.options.crossmountNamespace}`, '']) {
        const what = `POST mounting an unknown blob${query ? ' with from' : ' without from'}`;
        const mount = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?mount=${missing}${query}`);
        expectStatus(mount, 202, what, ['location']);
        await context.client.request('DELETE', expectUploadSession(context, mount, what));
      }
    },
  },
  {
    id: 'push.mount-automatic',
    spec: 'end-11',
    title: 'mount without `from` answers 201 (mounted) or 202 (upload), as OCI_AUTOMATIC_CROSSMOUNT says',
    async run(context) {
      const blob = randomContent(1500);
      const mount = await requestMount(context, blob, '');
      const expected = context.options.automaticCrossmount;
      expectStatus(mount, expected === undefined ? [201, 202] : expected ? 201 : 202, 'POST with mount and no from');
      if (mount.status === 201) await expectBlob(context, repo(context), blob, 'automatic mount');
      else await context.client.request('DELETE', expectUploadSession(context, mount, 'POST with mount and no from'));
    },
  },
];
