/**
 * Berth on S3 (a real S3-compatible server, s3rver, over HTTP): conformance, skopeo, two
 * replicas on one bucket, presigned redirects, and clear errors when the bucket is missing or gone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { optionsFromEnv } from '../../conformance/options.ts';
import type { Digest } from '../../oci/digest.ts';
import { runConformance } from '../../conformance/runner.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { paths } from '../../storage/paths.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { randomBlob } from '../helpers/content.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

let s3: S3Server;
let replicaA: BerthProcess;
let replicaB: BerthProcess;
let scratch: string;
const STORAGE = () => `s3://${s3.bucket}/registry`;

before(async () => {
  s3 = await startS3Server();
  scratch = await mkdtemp(join(tmpdir(), 'berth-s3-'));
  // Each replica keeps its local copies apart, as on two machines.
  const replica = async (name: string) => {
    const config = join(scratch, `${name}.yml`);
    await writeFile(config, `storage:\n  url: ${STORAGE()}\n  localCache:\n    path: ${join(scratch, `cache-${name}`)}\n`);
    return startBerthProcess(['--config', config, '--workers', '1'], s3.env);
  };
  [replicaA, replicaB] = await Promise.all([replica('a'), replica('b')]);
});
after(async () => {
  await Promise.all([replicaA?.stop(), replicaB?.stop()]);
  await s3?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('Berth on S3', () => {
  it('passes every conformance check', async () => {
    const report = await runConformance(optionsFromEnv({ OCI_ROOT_URL: replicaA.url, OCI_AUTOMATIC_CROSSMOUNT: 'true' }));
    assert.deepEqual(
      report.results.filter((r) => r.outcome.status !== 'passed'),
      [],
    );
  });

  it('round-trips an image with skopeo', needs('skopeo', 'umoci'), async () => {
    const layout = await buildImage('v1', [2 * 1024 * 1024, 1000]);
    try {
      await skopeoCopy(`oci:${layout}:v1`, `docker://${replicaA.host}/s3/app:v1`);
      const back = join(scratch, 'back');
      await skopeoCopy(`docker://${replicaB.host}/s3/app:v1`, `oci:${back}:v1`);
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${replicaB.host}/s3/app:v1`]);
      assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 2);
    } finally {
      await rm(dirname(layout), { recursive: true, force: true });
    }
  });
});

describe('two replicas on one bucket', () => {
  it('complete a chunked upload that alternates between them', async () => {
    const blob = randomBlob(12 * 1024 * 1024 + 5);
    const replicas = [new RegistryAPI(replicaA.url), new RegistryAPI(replicaB.url)];
    const start = await replicas[0]!.request('POST', '/v2/replicas/app/blobs/uploads/');
    let location = start.headers.get('location');
    const chunk = 5 * 1024 * 1024;
    for (let offset = 0, i = 1; offset < blob.bytes.length; offset += chunk, i++) {
      const end = Math.min(offset + chunk, blob.bytes.length);
      const patch = await replicas[i % 2]!.request('PATCH', location, {
        body: blob.bytes.subarray(offset, end),
        headers: { 'Content-Range': `${offset}-${end - 1}` },
      });
      assert.equal(patch.status, 202, await patch.text());
      location = patch.headers.get('location');
    }
    const close = await replicas[0]!.request('PUT', `${location}?digest=${blob.digest}`);
    assert.equal(close.status, 201, await close.text());
    const pulled = await replicas[1]!.request('GET', `/v2/replicas/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), blob.bytes);
    for (const name of ['a', 'b']) {
      assert.equal(
        await stat(join(scratch, `cache-${name}`, 'sha256', blob.digest.hex)).catch(() => undefined),
        undefined,
        `replica ${name.toUpperCase()} saw part of the upload: no copy`,
      );
      assert.deepEqual(await readdir(join(scratch, `cache-${name}`, 'uploads')), [], `replica ${name.toUpperCase()} keeps no copy of the upload in progress`);
    }
  });

  it('see a manifest pushed through one at once through the other, and its deletion', async () => {
    const a = new RegistryAPI(replicaA.url);
    const b = new RegistryAPI(replicaB.url);
    const { imageManifest } = await import('../helpers/content.ts');
    const config = randomBlob(100);
    await a.pushBlob('replicas/app', config);
    const manifest = imageManifest(config, []);
    assert.equal((await a.pushManifest('replicas/app', 'v1', manifest)).status, 201);
    const got = await b.request('GET', '/v2/replicas/app/manifests/v1');
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('docker-content-digest'), `${manifest.digest}`);
    const catalog = (await (await b.request('GET', '/v2/_catalog')).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('replicas/app'), `catalog: ${catalog.repositories.join(', ')}`);
    assert.deepEqual(catalog.repositories, [...catalog.repositories].sort());
    assert.equal((await b.request('DELETE', `/v2/replicas/app/manifests/${manifest.digest}`)).status, 202);
    assert.equal((await a.request('GET', '/v2/replicas/app/manifests/v1')).status, 404);
    assert.equal((await a.request('GET', `/v2/replicas/app/manifests/${manifest.digest}`)).status, 404);
  });

  it('under a burst of HEADs of a blob through one, answer 404 to every HEAD sent after its deletion through the other', async () => {
    const blob = randomBlob(1000);
    await new RegistryAPI(replicaA.url).pushBlob('replicas/burst', blob);
    const url = `${replicaB.url}/v2/replicas/burst/blobs/${blob.digest}`;
    const answers: { sent: number; status: number }[] = [];
    let deletedAt = Number.POSITIVE_INFINITY;
    const heads = async () => {
      while (performance.now() < deletedAt + 300) {
        const sent = performance.now();
        answers.push({ sent, status: (await fetch(url, { method: 'HEAD' })).status });
      }
    };
    const burst = Promise.all(Array.from({ length: 16 }, heads));
    await sleep(200);
    const deleted = await fetch(`${replicaA.url}/v2/replicas/burst/blobs/${blob.digest}`, { method: 'DELETE' });
    deletedAt = performance.now();
    assert.equal(deleted.status, 202);
    await burst;
    const before = answers.filter((answer) => answer.sent < deletedAt);
    const after = answers.filter((answer) => answer.sent > deletedAt);
    assert.ok(
      before.some((answer) => answer.status === 200),
      'the blob was found before its deletion',
    );
    assert.ok(after.length > 0, 'HEADs were sent after the deletion');
    assert.deepEqual(new Set(after.map((answer) => answer.status)), new Set([404]), 'no HEAD after the deletion found it');
  });
});

/** Waits until `file` exists; `what` names it in the failure. */
async function appears(file: string, what: string): Promise<void> {
  for (let waited = 0; !(await stat(file).catch(() => undefined)); waited += 50) {
    assert.ok(waited < 10_000, what);
    await sleep(50);
  }
}

/** Deletes a blob's bytes from the bucket behind the registry's back; repositories still link them. */
async function deleteFromBucket(digest: Digest): Promise<void> {
  const bucket = new S3Driver(s3Settings(STORAGE(), {}, s3.env));
  await bucket.delete(paths.blobData(digest));
  await bucket.close();
}

describe('local copies of S3 blobs', () => {
  it('serve repeated downloads from the replica that kept one, while membership is still read from the bucket', async () => {
    const blob = randomBlob(3 * 1024 * 1024 + 3);
    const [a, b] = [new RegistryAPI(replicaA.url), new RegistryAPI(replicaB.url)];
    const path = `/v2/cached/app/blobs/${blob.digest}`;
    // Pushed through B, so A has no copy of the upload and reads the bucket.
    await b.pushBlob('cached/app', blob);
    for (const read of ['first', 'second']) {
      const download = await a.request('GET', path);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), blob.bytes, `${read} download, from the bucket`);
    }
    await appears(join(scratch, 'cache-a', 'sha256', blob.digest.hex), 'replica A keeps a copy of what it served twice');
    await deleteFromBucket(blob.digest);
    const again = await a.request('GET', path);
    assert.equal(again.status, 200);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), blob.bytes, 'replica A serves its copy');
    assert.equal((await a.request('DELETE', path)).status, 202);
    const deleted = await a.request('GET', path);
    assert.equal(deleted.status, 404, 'a deleted blob is gone at once, copy or not');
    assert.deepEqual(await RegistryAPI.errorCodes(deleted), ['BLOB_UNKNOWN']);
  });

  it('keep a copy of a blob pushed in chunks through one replica, so its first pull there reads local disk', async () => {
    const blob = randomBlob(6 * 1024 * 1024 + 7);
    const [a, b] = [new RegistryAPI(replicaA.url), new RegistryAPI(replicaB.url)];
    const start = await a.request('POST', '/v2/pushed/app/blobs/uploads/');
    let location = start.headers.get('location');
    const chunk = 4 * 1024 * 1024;
    for (let offset = 0; offset < blob.bytes.length; offset += chunk) {
      const end = Math.min(offset + chunk, blob.bytes.length);
      const patch = await a.request('PATCH', location, { body: blob.bytes.subarray(offset, end), headers: { 'Content-Range': `${offset}-${end - 1}` } });
      assert.equal(patch.status, 202, await patch.text());
      location = patch.headers.get('location');
    }
    assert.equal((await a.request('PUT', `${location}?digest=${blob.digest}`)).status, 201);
    const copy = join(scratch, 'cache-a', 'sha256', blob.digest.hex);
    assert.ok(await stat(copy).catch(() => undefined), 'the copy is in place once the upload is committed');
    assert.deepEqual(await readdir(join(scratch, 'cache-a', 'uploads')), [], 'and the upload left nothing behind');
    const path = `/v2/pushed/app/blobs/${blob.digest}`;
    await deleteFromBucket(blob.digest);
    const first = await a.request('GET', path);
    assert.equal(first.status, 200);
    assert.deepEqual(Buffer.from(await first.arrayBuffer()), blob.bytes, 'the first pull through A reads its copy');
    const other = await b.request('GET', path);
    assert.equal(other.status, 404, 'replica B has no copy, and the bucket no bytes');
    assert.deepEqual(await RegistryAPI.errorCodes(other), ['BLOB_UNKNOWN']);
    await a.request('DELETE', path);
  });

  it('keep no copy of an upload whose digest does not match, nor of one cancelled', async () => {
    const blob = randomBlob(2 * 1024 * 1024 + 1);
    const wrong = randomBlob(16);
    const a = new RegistryAPI(replicaA.url);
    const refused = await a.request('POST', `/v2/pushed/wrong/blobs/uploads/?digest=${wrong.digest}`, {
      body: blob.bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(await RegistryAPI.errorCodes(refused), ['DIGEST_INVALID']);
    const start = await a.request('POST', '/v2/pushed/cancelled/blobs/uploads/');
    const location = start.headers.get('location');
    assert.equal((await a.request('PATCH', location, { body: blob.bytes, headers: { 'Content-Range': `0-${blob.bytes.length - 1}` } })).status, 202);
    assert.equal((await a.request('DELETE', location)).status, 204);
    for (const digest of [wrong.digest, blob.digest]) {
      assert.equal(await stat(join(scratch, 'cache-a', 'sha256', digest.hex)).catch(() => undefined), undefined, `no copy of ${digest}`);
    }
    for (let waited = 0; (await readdir(join(scratch, 'cache-a', 'uploads'))).length > 0; waited += 50) {
      assert.ok(waited < 10_000, 'copies of failed and cancelled uploads are removed');
      await sleep(50);
    }
  });
});

describe('local copies under concurrent downloads', () => {
  it('give every client the whole blob and leave one copy, no temp files', async () => {
    const blob = randomBlob(2 * 1024 * 1024 + 11);
    const b = new RegistryAPI(replicaB.url);
    const path = `/v2/cached/many/blobs/${blob.digest}`;
    // Pushed through A, so that B makes its copy from downloads.
    await new RegistryAPI(replicaA.url).pushBlob('cached/many', blob);
    const downloads = await Promise.all(Array.from({ length: 12 }, () => b.request('GET', path).then(async (r) => Buffer.from(await r.arrayBuffer()))));
    for (const bytes of downloads) assert.ok(bytes.equals(blob.bytes), 'each client gets the blob');
    const copies = join(scratch, 'cache-b', 'sha256');
    let names: string[] = [];
    for (let waited = 0; !(names.length === 1 && names[0] === blob.digest.hex); waited += 50) {
      assert.ok(waited < 10_000, `one copy and nothing else in ${copies}: ${names.join(', ')}`);
      await sleep(50);
      names = (await readdir(copies).catch(() => [] as string[])).filter((name) => name.startsWith(blob.digest.hex));
    }
  });
});

describe('S3 settings and failures', () => {
  it('answers blob GETs with 307 to a presigned URL when redirect is on', async () => {
    const config = join(scratch, 'redirect.yml');
    await writeFile(config, `storage:\n  url: ${STORAGE()}\n  s3:\n    redirect: true\n`);
    const redirecting = await startBerthProcess(['--config', config, '--workers', '1'], s3.env);
    try {
      const blob = randomBlob(5000);
      const api = new RegistryAPI(redirecting.url);
      await api.pushBlob('redirect/app', blob);
      const get = await api.request('GET', `/v2/redirect/app/blobs/${blob.digest}`);
      assert.equal(get.status, 307);
      const location = get.headers.get('location')!;
      assert.match(location, new RegExp(`^${s3.endpoint}/`));
      assert.deepEqual(Buffer.from(await (await fetch(location)).arrayBuffer()), blob.bytes);
    } finally {
      await redirecting.stop();
    }
  });

  it('refuses to start, in one line, on a missing bucket or an unreachable endpoint', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const cli = join(import.meta.dirname, '../../cli/main.ts');
    const serve = (storage: string, env: NodeJS.ProcessEnv) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'serve', '--storage', storage, '--listen', '127.0.0.1:0'], {
        env: { ...process.env, ...env },
        timeout: 30_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    const missing = await serve('s3://no-such-bucket', s3.env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /berth serve: cannot start: bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/);
    const down = await serve('s3://berth', { ...s3.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /berth serve: cannot start: cannot reach bucket "berth" at http:\/\/127\.0\.0\.1:9/);
  });

  it('answers 503 with a spec error body when S3 goes away, and serves again when it is back', async () => {
    const standalone = await startS3Server('outage');
    const server = await startBerthProcess(['--storage', 's3://outage', '--workers', '1'], standalone.env);
    try {
      await standalone.kill();
      const response = await fetch(`${server.url}/v2/outage/app/tags/list`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
      assert.match(body.errors[0]?.message ?? '', /S3 at http:\/\/127\.0\.0\.1:\d+ failed/);
      assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
    } finally {
      await server.stop();
      await standalone.stop();
    }
  });
});
