import { expectHeader, expectStatus, type Check } from '../../check.ts';
import { randomContent } from '../../content.ts';
import { withQuery } from '../../operations.ts';
import { closeUpload, expectNextLocation, patchChunk, startUpload, uploadFirstChunk } from './session.ts';

/**
 * Chunked uploads (end-5, end-6, end-13). A session's URL stays valid: the spec's GET status takes
 * "the URL obtained from any preceding POST or PATCH request", and a chunk sent to it out of order is
 * a 416 whatever URL of the session carried it.
 */
export const chunkChecks: Check[] = [
  {
    id: 'push.chunk-in-order',
    spec: 'end-5, end-6',
    title: 'chunks with Content-Range are accepted in order (202 with Range and Location) and the PUT closes the upload',
    async run(context) {
      const upload = await startUpload(context);
      const { chunk } = upload;
      const blob = randomContent(3 * chunk);
      const first = await patchChunk(context, upload.location, blob, 0, chunk);
      expectStatus(first, 202, 'first PATCH', ['range', 'location']);
      expectHeader(first, 'range', `0-${chunk - 1}`, 'first PATCH');
      const second = await patchChunk(context, expectNextLocation(first, 'first PATCH'), blob, chunk, 2 * chunk);
      expectStatus(second, 202, 'second PATCH', ['range', 'location']);
      expectHeader(second, 'range', `0-${2 * chunk - 1}`, 'second PATCH');
      await closeUpload(context, expectNextLocation(second, 'second PATCH'), blob, 'PUT with the final chunk', {
        body: blob.bytes.subarray(2 * chunk),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${2 * chunk}-${3 * chunk - 1}`, 'Content-Length': String(chunk) },
      });
    },
  },
  {
    id: 'push.chunk-first-out-of-order',
    spec: 'end-5',
    title: 'a first chunk whose Content-Range does not start at 0 answers 416',
    async run(context) {
      const { location, chunk } = await startUpload(context);
      const blob = randomContent(2 * chunk);
      expectStatus(await patchChunk(context, location, blob, chunk, 2 * chunk), 416, 'first PATCH carrying the second chunk');
      await context.client.request('DELETE', location);
    },
  },
  {
    id: 'push.chunk-out-of-order',
    spec: 'end-5, end-13',
    title: 'a chunk out of order (skipping ahead or repeated) answers 416, and GET on the upload reports where it stands (204 with Range)',
    async run(context) {
      const { chunk, blob, location } = await uploadFirstChunk(context);
      const skipped = await patchChunk(context, location, blob, chunk + 1, 2 * chunk);
      expectStatus(skipped, 416, 'PATCH starting past the received bytes');
      const repeated = await patchChunk(context, location, blob, 0, chunk);
      expectStatus(repeated, 416, 'PATCH repeating the chunk already received');
      const status = await context.client.request('GET', location);
      expectStatus(status, 204, 'GET upload status (end-13)', ['range', 'location']);
      expectHeader(status, 'range', `0-${chunk - 1}`, 'GET upload status (end-13)');
      expectNextLocation(status, 'GET upload status (end-13)');
      await context.client.request('DELETE', location);
    },
  },
  {
    id: 'push.chunk-retry-stale',
    spec: 'end-5',
    title: "the first chunk sent again to the POST's Location (after the PATCH gave a new one) answers 416",
    async run(context) {
      const { chunk, blob, first, location } = await uploadFirstChunk(context);
      expectStatus(await patchChunk(context, first, blob, 0, chunk), 416, "PATCH repeating the first chunk at the POST's Location");
      await context.client.request('DELETE', location);
    },
  },
  {
    id: 'push.chunk-resume-stale',
    spec: 'end-13, end-5, end-6',
    title: "GET on the POST's Location reports the session (204 with Range and Location), from where the upload goes on and closes with a bodiless PUT",
    async run(context) {
      const { chunk, blob, first } = await uploadFirstChunk(context);
      const status = await context.client.request('GET', first);
      expectStatus(status, 204, "GET upload status at the POST's Location (end-13)", ['range', 'location']);
      expectHeader(status, 'range', `0-${chunk - 1}`, "GET upload status at the POST's Location (end-13)");
      const second = await patchChunk(context, expectNextLocation(status, 'GET upload status'), blob, chunk, 2 * chunk);
      expectStatus(second, 202, 'second PATCH, at the Location the status gave', ['location']);
      await closeUpload(context, expectNextLocation(second, 'second PATCH'), blob, 'PUT with the digest and no body');
    },
  },
  {
    id: 'push.chunk-final-out-of-order',
    spec: 'end-6 (main)',
    title: 'an out-of-order final chunk on the closing PUT answers 416',
    async run(context) {
      const { chunk, blob, location } = await uploadFirstChunk(context);
      const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), {
        body: blob.bytes.subarray(chunk + 1),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${chunk + 1}-${2 * chunk - 1}`, 'Content-Length': String(chunk - 1) },
      });
      expectStatus(put, 416, 'closing PUT whose chunk starts past the received bytes');
      await context.client.request('DELETE', location);
    },
  },
];
