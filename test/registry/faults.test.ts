/**
 * Faults of the storage below every endpoint: each gets an answer in the spec's error format at
 * once (never a hang), leaves no partial blob or manifest, and the same request succeeds once the
 * fault is gone; a cut-off upload resumes where storage says it stands.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { imageManifest, randomBlob } from '../helpers/content.ts';
import { FAULTS, FaultyDriver, type Fault, type Operation } from '../helpers/faulty-driver.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

/** How long an answer may take before the request counts as left hanging (a liveness bound, not a timing). */
const ANSWER_WITHIN_MS = 5000;

/** The status and code each fault is answered with (registry/errors.ts). */
const EXPECTED: Record<Fault, { status: number; code: string }> = {
  ENOSPC: { status: 507, code: 'UNKNOWN' },
  EIO: { status: 500, code: 'UNKNOWN' },
  SlowDown: { status: 503, code: 'UNAVAILABLE' },
  ECONNRESET: { status: 503, code: 'UNAVAILABLE' },
};

let root: string;
let driver: FaultyDriver;
let berth: RunningBerth;
let api: RegistryAPI;
const logged: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-faults-'));
  driver = new FaultyDriver(new FsDriver(root));
  berth = await startBerth({ driver, log: (line) => logged.push(line) });
  api = new RegistryAPI(berth.url);
});
after(async () => {
  await berth?.stop();
  await rm(root, { recursive: true, force: true });
});

type Init = Parameters<RegistryAPI['request']>[2];

/** Sends a request that must be answered promptly, whatever storage does. */
async function send(method: string, path: string | null, init?: Init): Promise<Response> {
  return Promise.race([
    api.request(method, path, init),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${method} ${path} got no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS).unref(),
    ),
  ]);
}

/** Asserts the answer to a faulted request: the fault's status, the spec's error body, a line in the log. */
async function assertFaultAnswer(response: Response, fault: Fault, method: string): Promise<void> {
  const expected = EXPECTED[fault];
  assert.equal(response.status, expected.status, `${method} under ${fault}`);
  if (!method.startsWith('HEAD')) {
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, expected.code);
    assert.match(body.errors[0]!.message, /storage failed|S3 failed/);
  } else await response.arrayBuffer();
  assert.ok(
    logged.some((line) => line.includes(String(expected.status))),
    'the fault is logged',
  );
}

/** Fails `operations` with each fault in turn: `request` is answered as the fault says; after clearing it succeeds. */
async function underEachFault(
  operations: Operation | Operation[],
  method: string,
  request: () => Promise<Response>,
  afterFault: (fault: Fault) => Promise<void>,
  options: { pathIncludes?: string; skip?: number } = {},
): Promise<void> {
  for (const fault of FAULTS) {
    logged.length = 0;
    for (const operation of [operations].flat()) driver.inject(operation, fault, options);
    try {
      await assertFaultAnswer(await request(), fault, method);
    } finally {
      driver.clear();
    }
    await afterFault(fault);
  }
}

async function expectStatus(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status) assert.fail(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
  return response;
}

describe('uploads under storage faults', () => {
  it('POST that starts an upload (end-4a): answered, then works', async () => {
    await underEachFault(
      'putContent',
      'POST',
      () => send('POST', '/v2/faults/start/blobs/uploads/'),
      async () => void (await expectStatus(await send('POST', '/v2/faults/start/blobs/uploads/'), 202, 'POST once the fault is gone')),
    );
  });

  it('monolithic POST (end-4b) failing midway stores nothing, then the same POST stores the blob', async () => {
    const blob = randomBlob(512 * 1024);
    const post = () =>
      send('POST', `/v2/faults/mono/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    // A monolithic upload writes its bytes as one object (UploadStore.ingest), not as appends.
    await underEachFault('write', 'POST', post, async () => {
      await expectStatus(await send('HEAD', `/v2/faults/mono/blobs/${blob.digest}`), 404, 'no partial blob after the fault');
      assert.equal(await driver.stat(`docker/registry/v2/blobs/sha256/${blob.digest.hex.slice(0, 2)}/${blob.digest.hex}/data`), undefined);
    });
    await expectStatus(await post(), 201, 'the same POST once the fault is gone');
    const back = await expectStatus(await send('GET', `/v2/faults/mono/blobs/${blob.digest}`), 200, 'GET');
    assert.ok(Digest.of(Buffer.from(await back.arrayBuffer())).equals(blob.digest), 'the stored blob hashes to its digest');
  });

  it('PATCH (end-5) failing midway: the upload stays, reports where it stands, and resumes to the right digest', async () => {
    const blob = randomBlob(768 * 1024);
    for (const fault of FAULTS) {
      logged.length = 0;
      const start = await expectStatus(await send('POST', '/v2/faults/chunked/blobs/uploads/'), 202, 'start');
      const location = start.headers.get('location');
      driver.inject('append', fault);
      try {
        await assertFaultAnswer(await send('PATCH', location, { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } }), fault, 'PATCH');
      } finally {
        driver.clear();
      }
      const status = await expectStatus(await send('GET', location), 204, 'upload status after the fault');
      const stored = Number(status.headers.get('range')?.match(/^0-(\d+)$/)?.[1] ?? -1) + 1;
      assert.ok(stored >= 0 && stored < blob.bytes.length, `range ${status.headers.get('range')}`);
      const rest = blob.bytes.subarray(stored);
      const patched = await expectStatus(
        await send('PATCH', location, {
          body: rest,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stored}-${blob.bytes.length - 1}` },
        }),
        202,
        'resumed PATCH',
      );
      const closed = `${patched.headers.get('location')}${patched.headers.get('location')!.includes('?') ? '&' : '?'}digest=${blob.digest}`;
      await expectStatus(await send('PUT', closed), 201, `closing PUT after ${fault}`);
    }
  });

  it('closing PUT (end-6) failing to move the blob in: answered, no blob, and the same PUT then works', async () => {
    const blob = randomBlob(300 * 1024);
    const start = await expectStatus(await send('POST', '/v2/faults/close/blobs/uploads/'), 202, 'start');
    const patched = await expectStatus(
      await send('PATCH', start.headers.get('location'), { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } }),
      202,
      'PATCH',
    );
    const location = patched.headers.get('location')!;
    const close = () => send('PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`);
    await underEachFault('move', 'PUT', close, async () => {
      await expectStatus(await send('HEAD', `/v2/faults/close/blobs/${blob.digest}`), 404, 'no blob after a failed commit');
    });
    await expectStatus(await close(), 201, 'the same PUT once the fault is gone');
  });
});

describe('manifests, tags and reads under storage faults', () => {
  const config = randomBlob(200);
  const layer = randomBlob(4000);
  const manifest = imageManifest(config, [layer]);
  const name = 'faults/image';

  before(async () => {
    await api.pushBlob(name, config);
    await api.pushBlob(name, layer);
  });

  it('manifest PUT (end-7): answered, the tag not set, then the same PUT works', async () => {
    const put = () => send('PUT', `/v2/${name}/manifests/v1`, { body: manifest.bytes, headers: { 'Content-Type': MediaType.ociManifest } });
    await underEachFault('putContent', 'PUT', put, async () => {
      await expectStatus(await send('GET', `/v2/${name}/manifests/v1`), 404, 'no tag after a failed push');
    });
    await expectStatus(await put(), 201, 'the same PUT once the fault is gone');
  });

  it('manifest GET and HEAD (end-3), blob GET and HEAD (end-2), tag list (end-8)', async () => {
    // A parsed manifest is kept in memory, but whether the repository still holds it is asked of storage.
    const reads: [Operation[], string, string][] = [
      [['getContent', 'stat'], 'GET', `/v2/${name}/manifests/v1`],
      [['getContent', 'stat'], 'HEAD', `/v2/${name}/manifests/v1`],
      [['reader'], 'GET', `/v2/${name}/blobs/${layer.digest}`],
      [['stat'], 'HEAD', `/v2/${name}/blobs/${layer.digest}`],
      [['list'], 'GET', `/v2/${name}/tags/list`],
    ];
    for (const [operations, method, path] of reads) {
      await underEachFault(
        operations,
        `${method} ${path}`,
        () => send(method, path),
        async () => {
          await expectStatus(await send(method, path), 200, `${method} ${path} once the fault is gone`);
        },
      );
    }
  });

  // One fault only: a listing that worked is reused for a couple of seconds (storage/repository-store.ts).
  it('the catalog: a listing that fails is answered, and the next one works', async () => {
    logged.length = 0;
    driver.inject('list', 'EIO');
    try {
      await assertFaultAnswer(await send('GET', '/v2/_catalog'), 'EIO', 'GET');
    } finally {
      driver.clear();
    }
    await expectStatus(await send('GET', '/v2/_catalog'), 200, 'the catalog once the fault is gone');
  });

  it('tag DELETE (end-9): answered, and the same DELETE then works', async () => {
    await expectStatus(
      await send('PUT', `/v2/${name}/manifests/doomed`, { body: manifest.bytes, headers: { 'Content-Type': MediaType.ociManifest } }),
      201,
      'tag',
    );
    await underEachFault(
      'delete',
      'DELETE',
      () => send('DELETE', `/v2/${name}/manifests/doomed`),
      async () => undefined,
    );
    await expectStatus(await send('DELETE', `/v2/${name}/manifests/doomed`), 202, 'DELETE once the fault is gone');
    await expectStatus(await send('GET', `/v2/${name}/manifests/v1`), 200, 'the sibling tag stays');
  });
});
