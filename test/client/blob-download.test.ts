/**
 * One blob's download into the store (image-spec descriptor.md: `size` and `digest` of the content
 * are checked; distribution-spec end-2: GET /v2/<name>/blobs/<digest>), against a real HTTP server
 * that sends its body in small pieces.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { downloadBlob } from '../../client/blob-download.ts';
import { SizeMismatchError } from '../../client/errors.ts';
import { silentProgress } from '../../client/progress.ts';
import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { clientFor, tempStore } from '../helpers/client-fixtures.ts';

const BLOB = randomBytes(5 * 1024 * 1024 + 123);
const DIGEST = Digest.of(BLOB);

describe('downloadBlob', () => {
  let server: Server;
  let host: string;
  /** What the server sends for the blob: the blob itself unless a test says otherwise. */
  let body = BLOB;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // 7 KiB pieces: many more writes than the sink's batches, so batching has to keep their order.
      for (let at = 0; at < body.length; at += 7 * 1024) res.write(body.subarray(at, at + 7 * 1024));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test('writes the bytes in order, verified, under the digest', async () => {
    body = BLOB;
    const { store, remove } = await tempStore();
    try {
      const descriptor = { mediaType: MediaType.ociLayerTarGzip, digest: DIGEST, size: BLOB.length };
      assert.equal(await downloadBlob(clientFor(host), 'repo', descriptor, store, { progress: silentProgress }), BLOB.length);
      assert.deepEqual(await readFile(store.blobPath(DIGEST)), BLOB);
    } finally {
      await remove();
    }
  });

  test('a body longer than the descriptor says stops with SizeMismatchError and leaves nothing behind', async () => {
    body = Buffer.concat([BLOB, randomBytes(1024 * 1024)]);
    const { store, remove } = await tempStore();
    try {
      const descriptor = { mediaType: MediaType.ociLayerTarGzip, digest: DIGEST, size: BLOB.length };
      await assert.rejects(downloadBlob(clientFor(host), 'repo', descriptor, store, { progress: silentProgress }), SizeMismatchError);
      assert.equal(await store.has(DIGEST), false);
      assert.deepEqual(await readdir(store.partialPath(DIGEST).replace(/\/[^/]+$/, '')), []);
    } finally {
      await remove();
    }
  });
});
