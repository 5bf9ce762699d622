/**
 * Issue 23: Berth as a pull-through cache of two upstreams at once (Distribution 2.8.2 with
 * htpasswd, a Berth in token mode), each behind a proxy counting the bytes it moves. Requests are
 * the distribution-spec's (spec/distribution-spec/spec.md, "Pulling manifests" end-3, "Pulling
 * blobs" end-2, "Error Codes"); the Warning header is RFC 9111 §5.5.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { MANIFEST_ACCEPT, MediaType } from '../../oci/media-types.ts';
import { parse } from 'yaml';
import { startCountingProxy } from '../../peers/counting-proxy.ts';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { startServer } from '../../registry/server.ts';
import { paths } from '../../storage/paths.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { clientFor } from '../helpers/client-fixtures.ts';
import { blobOf, randomBlob } from '../helpers/content.ts';
import { needs } from '../helpers/peers.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { blobGetsByDigest, digests, fetchedBytes, mirrorYaml, pushImage, startMirror, startUpstreams, type Mirror, type Upstreams } from './mirror-rig.ts';

async function manifestAt(url: string, name: string, reference: string, query = ''): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}${query}`, { headers: { Accept: MANIFEST_ACCEPT } });
}

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { errors: { code: string }[] }).errors[0]?.code;
}

describe('the mirror (pull-through cache)', needs('docker-registry'), () => {
  let upstreams: Upstreams;
  let mirror: Mirror;

  before(async () => {
    upstreams = await startUpstreams();
    mirror = await startMirror(upstreams);
  });

  after(async () => {
    await mirror?.stop();
    await upstreams?.stop();
  });

  it('fetches each blob once whichever way a client names the repository: path prefix, bare name (library/ added), ?ns=', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/alpine', '3');
    upstreams.hubProxy.reset();
    assert.equal(await pullCompletely(mirror.url, 'docker.io/library/alpine', '3'), 4);
    assert.equal(upstreams.hubProxy.blobBytes(), image.blobBytes, 'the first pull brings every blob once');
    upstreams.hubProxy.reset();
    assert.equal(await pullCompletely(mirror.url, 'alpine', '3'), 4);
    const byNs = await manifestAt(mirror.url, 'library/alpine', '3', '?ns=docker.io');
    assert.equal(byNs.status, 200);
    assert.equal(byNs.headers.get('docker-content-digest'), `${image.manifest.digest}`, 'the digest the upstream has');
    assert.ok(Buffer.from(await byNs.arrayBuffer()).equals(image.manifest.bytes), 'the bytes as the upstream served them');
    const blob = await fetch(`${mirror.url}/v2/library/alpine/blobs/${image.layers[0]!.digest}?ns=docker.io`);
    assert.equal(blob.status, 200);
    await blob.arrayBuffer();
    assert.equal(upstreams.hubProxy.blobBytes(), 0, 'the second pull moves no blob bytes upstream');
    const catalog = (await (await fetch(`${mirror.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['docker.io/library/alpine'], 'cached content is an ordinary repository, under one name');
  });

  it('keeps a Docker schema2 manifest as served: its media type and digest', async () => {
    const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBlob(50_000);
    for (const blob of [config, layer]) await upstreams.hubClient.uploadSmall('library/docker-style', blob.digest, blob.bytes);
    const manifest = blobOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, size: config.bytes.length, digest: `${config.digest}` },
        layers: [{ mediaType: MediaType.dockerLayerTarGzip, size: layer.bytes.length, digest: `${layer.digest}` }],
      }),
    );
    await upstreams.hubClient.putManifest('library/docker-style', 'latest', manifest.bytes, MediaType.dockerManifest);
    const response = await manifestAt(mirror.url, 'docker.io/library/docker-style', 'latest');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), MediaType.dockerManifest);
    assert.equal(response.headers.get('docker-content-digest'), `${manifest.digest}`);
    assert.equal(await pullCompletely(mirror.url, 'docker.io/library/docker-style', `${manifest.digest}`), 3);
  });

  it('has 10 concurrent cold pulls fetch each blob from the upstream once', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/busy', '1', [2_000_000, 1_000_000, 500_000]);
    upstreams.hubProxy.reset();
    await Promise.all(Array.from({ length: 10 }, () => pullCompletely(mirror.url, 'docker.io/library/busy', '1')));
    const fetched = blobGetsByDigest(upstreams.hubProxy);
    assert.deepEqual(
      digests(image).map((digest) => fetched.get(`${digest}`)),
      digests(image).map(() => 1),
    );
    assert.equal(upstreams.hubProxy.blobBytes(), image.blobBytes);
  });

  it('finishes a fetch whose client hung up, and serves the next request from the store', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/abandoned', '1', [4_000_000]);
    const layer = image.layers[0]!;
    upstreams.hubProxy.reset();
    const abort = new AbortController();
    const response = await fetch(`${mirror.url}/v2/docker.io/library/abandoned/blobs/${layer.digest}`, { signal: abort.signal });
    await response.body!.getReader().read();
    abort.abort();
    while (!(await mirror.store.repositories.holdsBlob('docker.io/library/abandoned', layer.digest))) await sleep(50);
    const again = await fetch(`${mirror.url}/v2/docker.io/library/abandoned/blobs/${layer.digest}`);
    assert.ok(Digest.of(Buffer.from(await again.arrayBuffer())).equals(layer.digest), 'the whole blob from the store');
    assert.equal(fetchedBytes(upstreams.hubProxy), layer.bytes.length, 'one whole fetch upstream');
  });

  it('answers a cold manifest HEAD (how containerd and Docker resolve a tag) and a cold ranged blob GET', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/ranged', '1');
    const head = await fetch(`${mirror.url}/v2/docker.io/library/ranged/manifests/1`, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), `${image.manifest.digest}`);
    const layer = image.layers[1]!;
    const ranged = await fetch(`${mirror.url}/v2/docker.io/library/ranged/blobs/${layer.digest}`, { headers: { Range: 'bytes=1000-1999' } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(layer.bytes.subarray(1000, 2000)), 'the range asked for');
  });

  it('answers a HEAD of a blob it lacks from the upstream, fetching nothing', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/headed', '1');
    upstreams.hubProxy.reset();
    const layer = image.layers[0]!;
    const head = await fetch(`${mirror.url}/v2/docker.io/library/headed/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(layer.bytes.length));
    assert.equal(upstreams.hubProxy.blobBytes(), 0);
    assert.equal(await mirror.store.blobs.stat(layer.digest), undefined);
  });

  it("serves the token-auth upstream beside the other, within its repositories; other names are Berth's own and take pushes", async () => {
    const image = await pushImage(upstreams.ghcrClient, 'team/app', 'v1');
    upstreams.ghcrProxy.reset();
    assert.equal(await pullCompletely(mirror.url, 'ghcr.io/team/app', 'v1'), 4);
    assert.equal(upstreams.ghcrProxy.blobBytes(), image.blobBytes);

    const local = clientFor(mirror.host);
    const own = await pushImage(local, 'team/app', 'v1');
    assert.equal(await pullCompletely(mirror.url, 'team/app', 'v1'), 4, 'a push to a name no upstream serves works beside the mirror');
    const byNs = await manifestAt(mirror.url, 'team/app', 'v1', '?ns=ghcr.io');
    assert.equal(byNs.headers.get('docker-content-digest'), `${image.manifest.digest}`, "containerd's ?ns= names the upstream for a bare name");
    await byNs.arrayBuffer();
    const ownByPrefix = await manifestAt(mirror.url, 'ghcr.io/other/tool', 'v1');
    assert.equal(ownByPrefix.status, 404, "ghcr.io/other/* is outside the upstream's repositories: an ordinary (empty) repository");
    await ownByPrefix.arrayBuffer();
    assert.equal((await manifestAt(mirror.url, 'team/app', 'v1')).headers.get('docker-content-digest'), `${own.manifest.digest}`);

    for (const name of ['docker.io/library/alpine', 'alpine', 'ghcr.io/team/app']) {
      const refused = await fetch(`${mirror.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(refused.status, 405, `a push to the mirrored ${name}`);
      assert.equal(await errorCode(refused), 'UNSUPPORTED');
    }
    const deleted = await fetch(`${mirror.url}/v2/ghcr.io/team/app/manifests/${image.manifest.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 405);
    await deleted.arrayBuffer();
  });

  it('serves a tag from the cache while its check is fresh, without asking the upstream', async () => {
    const first = await pushImage(upstreams.ghcrClient, 'team/fresh', 'v1');
    await pullCompletely(mirror.url, 'ghcr.io/team/fresh', 'v1');
    await pushImage(upstreams.ghcrClient, 'team/fresh', 'v1');
    upstreams.ghcrProxy.reset();
    const response = await manifestAt(mirror.url, 'ghcr.io/team/fresh', 'v1');
    assert.equal(response.headers.get('docker-content-digest'), `${first.manifest.digest}`, 'ghcr.io trusts a tag for 10 minutes');
    assert.deepEqual(upstreams.ghcrProxy.requests, [], 'nothing asked upstream');
  });

  it('serves a tag moved upstream at its new digest once its check is due, with a HEAD', async () => {
    await pushImage(upstreams.hubClient, 'library/moving', '1');
    await pullCompletely(mirror.url, 'docker.io/library/moving', '1');
    const moved = await pushImage(upstreams.hubClient, 'library/moving', '1');
    // docker.io's tagTtl in the rig is 1s.
    await sleep(1100);
    upstreams.hubProxy.reset();
    const response = await manifestAt(mirror.url, 'docker.io/library/moving', '1');
    assert.equal(response.headers.get('docker-content-digest'), `${moved.manifest.digest}`);
    await response.arrayBuffer();
    const manifestRequests = upstreams.hubProxy.requests.filter((request) => request.path.includes('/manifests/') && request.status === 200);
    assert.deepEqual(
      manifestRequests.map((request) => `${request.method} ${request.path}`),
      [`HEAD /v2/library/moving/manifests/1`, `GET /v2/library/moving/manifests/${moved.manifest.digest}`],
    );
    upstreams.hubProxy.reset();
    await sleep(1100);
    const unmoved = await manifestAt(mirror.url, 'docker.io/library/moving', '1');
    await unmoved.arrayBuffer();
    assert.deepEqual(
      upstreams.hubProxy.requests.filter((request) => request.status === 200).map((request) => request.method),
      ['HEAD'],
      'a digest it holds is never fetched again',
    );
  });

  it('keeps nothing of a blob whose bytes do not match its digest, and fails its client', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/corrupt', '1');
    const layer = image.layers[0]!;
    // A HEAD first has the mirror log in for the repository: the corrupted GET is then the one that brings bytes.
    await fetch(`${mirror.url}/v2/docker.io/library/corrupt/blobs/${layer.digest}`, { method: 'HEAD' });
    upstreams.hubProxy.corruptNextBlob();
    const response = await fetch(`${mirror.url}/v2/docker.io/library/corrupt/blobs/${layer.digest}`);
    await assert.rejects(
      response.arrayBuffer().then((bytes) => assert.ok(!Digest.of(Buffer.from(bytes)).equals(layer.digest), 'a whole body was the wrong bytes')),
      'the client never gets the whole body',
    );
    // The client learns of the mismatch from its own copy's hash; the store's upload is cancelled beside it.
    while ((await mirror.store.driver.list(paths.uploadsRoot('docker.io/library/corrupt'))).length > 0) await sleep(20);
    assert.equal(await mirror.store.blobs.stat(layer.digest), undefined, 'no blob');
    assert.equal(await mirror.store.repositories.holdsBlob('docker.io/library/corrupt', layer.digest), false, 'no link');
    const again = await fetch(`${mirror.url}/v2/docker.io/library/corrupt/blobs/${layer.digest}`);
    assert.ok(Digest.of(Buffer.from(await again.arrayBuffer())).equals(layer.digest), 'the next request fetches it right');
  });

  it('pulls with `berth pull` through the default upstream (alpine is library/alpine)', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/pulled', 'stable');
    const dir = await mkdtemp(join(tmpdir(), 'mirror-pull-'));
    try {
      const first = await runBerth(['pull', `${mirror.host}/pulled:stable`, '--store', dir]);
      assert.equal(first.code, 0, first.stderr);
      upstreams.hubProxy.reset();
      const second = await runBerth(['pull', `${mirror.host}/pulled:stable`, '--store', join(dir, 'again')]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(upstreams.hubProxy.blobBytes(), 0, 'a second pull into an empty store moves no blob bytes upstream');
      assert.ok(await mirror.store.repositories.hasManifest('docker.io/library/pulled', image.manifest.digest), 'kept under docker.io/library/pulled');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("with the upstream slower than its timeout, serves what it holds with a Warning and the spec's 503 for the rest", async () => {
    await pushImage(upstreams.hubClient, 'library/slow', '1');
    await pullCompletely(mirror.url, 'docker.io/library/slow', '1');
    // A replica on the same storage whose upstream answers each request 2 s late, against a 300 ms timeout.
    const slow = await startCountingProxy(upstreams.hub.url, { delayMs: 2000 });
    const yaml = mirrorYaml(upstreams).replace(upstreams.hubProxy.url, slow.url).replace('timeout: 5s', 'timeout: 300ms');
    const replica = await startServer({ driver: mirror.storage.openDriver(), host: '127.0.0.1', port: 0, mirror: parseConfigFile(parse(yaml), 'slow').mirror });
    try {
      await sleep(1100);
      const stale = await manifestAt(replica.url, 'docker.io/library/slow', '1');
      assert.equal(stale.status, 200);
      assert.match(stale.headers.get('warning') ?? '', /^111 - "Revalidation Failed: upstream docker\.io/);
      await stale.arrayBuffer();
      const missing = await manifestAt(replica.url, 'docker.io/library/never', '1');
      assert.equal(missing.status, 503);
      assert.equal(await errorCode(missing), 'UNAVAILABLE');
    } finally {
      await replica.close(1000);
      await slow.stop();
    }
  });

  it("with the upstream failing (5xx, 429, then stopped) serves what it holds with a Warning, and the spec's error for the rest", async () => {
    const image = await pushImage(upstreams.hubClient, 'library/held', '1');
    await pullCompletely(mirror.url, 'docker.io/library/held', '1');
    await sleep(1100);
    upstreams.hubProxy.failNext('/v2/', 503, 1000);
    const stale = await manifestAt(mirror.url, 'docker.io/library/held', '1');
    assert.equal(stale.status, 200);
    assert.match(stale.headers.get('warning') ?? '', /^111 - "Revalidation Failed: upstream docker\.io/);
    await stale.arrayBuffer();
    const missing = await manifestAt(mirror.url, 'docker.io/library/never', '1');
    assert.equal(missing.status, 503);
    assert.equal(await errorCode(missing), 'UNAVAILABLE');

    upstreams.hubProxy.failNext('/v2/', 429, 1000);
    const limited = await manifestAt(mirror.url, 'docker.io/library/never', '1');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '0', "the upstream's Retry-After");
    assert.equal(await errorCode(limited), 'TOOMANYREQUESTS');
    assert.equal(await pullCompletely(mirror.url, 'docker.io/library/held', '1'), 4, 'a 429 upstream still lets the cache answer');

    await upstreams.hubProxy.stop();
    assert.equal(await pullCompletely(mirror.url, 'docker.io/library/held', '1'), 4, 'cached tag, upstream stopped');
    assert.equal(await pullCompletely(mirror.url, 'docker.io/library/held', `${image.manifest.digest}`), 4, 'cached digest, upstream stopped');
    const gone = await manifestAt(mirror.url, 'docker.io/library/never', '1');
    assert.equal(gone.status, 503);
    assert.equal(await errorCode(gone), 'UNAVAILABLE');
  });
});
