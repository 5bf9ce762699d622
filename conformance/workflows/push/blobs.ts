import { Digest } from '../../../oci/digest.ts';
import { expectErrorBody, expectHeader, expectStatus, expectThat, type Check } from '../../check.ts';
import { randomContent } from '../../content.ts';
import { namespace as repo, withQuery } from '../../operations.ts';
import { closeUpload, expectBlob, expectNextLocation, pushed, startUpload } from './session.ts';

/** Whole blobs: monolithic (POST then PUT, or one POST), streamed, cancelled, refused, sha512. */
export const blobChecks: Check[] = [
  {
    id: 'push.blob-monolithic',
    spec: 'end-4a, end-6',
    title: 'POST then PUT pushes a blob monolithically (201 with Location)',
    async run(context) {
      const blob = randomContent(2048);
      const { location } = await startUpload(context);
      await closeUpload(context, location, blob, 'PUT closing a monolithic upload', {
        body: blob.bytes,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
    },
  },
  {
    id: 'push.blob-single-post',
    spec: 'end-4b',
    title: 'a single POST with ?digest= pushes a blob (201), or starts an upload (202) that holds no blob yet; either with a Location',
    async run(context) {
      const blob = randomContent(2048);
      const post = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/?digest=${blob.digest}`, {
        body: blob.bytes,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      pushed(context, blob);
      expectStatus(post, [201, 202], 'single POST with digest', ['location']);
      const location = expectNextLocation(post, 'single POST with digest');
      if (post.status === 202) {
        // 202 means "not taken whole, go on with a PUT": until then there is no blob to serve.
        expectStatus(await context.client.request('GET', `/v2/${repo(context)}/blobs/${blob.digest}`), 404, 'GET the blob of a single POST answered 202');
        const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), { body: blob.bytes });
        expectStatus(put, 201, 'PUT after a single POST the registry did not take whole');
      }
      await expectBlob(context, repo(context), blob, 'single POST');
    },
  },
  {
    id: 'push.blob-digest-mismatch',
    spec: 'Pushing blobs',
    title: 'a blob whose bytes do not match its digest is refused with 400',
    async run(context) {
      const claimed = randomContent();
      const { location } = await startUpload(context);
      const put = await context.client.request('PUT', withQuery(location, `digest=${claimed.digest}`), { body: randomContent().bytes });
      expectStatus(put, 400, 'PUT with a digest that does not match the body');
      expectErrorBody(put, 'PUT with a digest that does not match the body', ['DIGEST_INVALID']);
      expectStatus(await context.client.request('HEAD', `/v2/${repo(context)}/blobs/${claimed.digest}`), 404, 'HEAD the refused blob');
    },
  },
  {
    id: 'push.blob-streamed',
    spec: 'end-5 (main)',
    title: 'PATCH without Content-Range streams the body into the upload (202 with Range), and a PUT closes it',
    async run(context) {
      const blob = randomContent(40_000);
      const { location } = await startUpload(context);
      const patch = await context.client.request('PATCH', location, { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
      expectStatus(patch, 202, 'streamed PATCH', ['range', 'location']);
      expectHeader(patch, 'range', '0-39999', 'streamed PATCH');
      await closeUpload(context, expectNextLocation(patch, 'streamed PATCH'), blob, 'PUT closing a streamed upload');
    },
  },
  {
    id: 'push.upload-cancel',
    spec: 'end-14 (main)',
    title: 'DELETE on an upload cancels it; the session is then unknown (404)',
    async run(context) {
      const { location } = await startUpload(context);
      const cancel = await context.client.request('DELETE', location);
      expectStatus(cancel, [204, 202, 200], 'DELETE on the upload location');
      const status = await context.client.request('GET', location);
      expectStatus(status, 404, 'GET on a cancelled upload');
      expectErrorBody(status, 'GET on a cancelled upload', ['BLOB_UPLOAD_UNKNOWN'], { onlyIfJSON: true });
    },
  },
  {
    id: 'push.blob-sha512',
    spec: 'Pushing blobs (main)',
    title: 'a blob named by a sha512 digest is stored and served under it',
    async run(context) {
      const blob = randomContent(3000, 'sha512');
      const { location } = await startUpload(context, '?digest-algorithm=sha512');
      const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), { body: blob.bytes });
      pushed(context, blob);
      expectStatus(put, 201, 'PUT of a sha512 blob');
      const get = await context.client.request('GET', `/v2/${repo(context)}/blobs/${blob.digest}`);
      expectStatus(get, 200, 'GET of a sha512 blob');
      expectThat(Digest.of(get.body, 'sha512').equals(blob.digest), 'GET of a sha512 blob: the body differs');
    },
  },
];
