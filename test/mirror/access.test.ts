/**
 * Issue 23: Berth's own access rules decide who may pull, and so fill, a mirrored repository; they
 * name it as kept (`docker.io/**`). The upstream sees only the mirror's account (auth-token.md: a
 * client's credentials are for the registry it talks to).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { MANIFEST_ACCEPT } from '../../oci/media-types.ts';
import { basic, USERS, writeUsers } from '../helpers/auth-berth.ts';
import { clientFor } from '../helpers/client-fixtures.ts';
import { needs } from '../helpers/peers.ts';
import { pushImage, startMirror, startUpstreams, type Mirror, type Upstreams } from './mirror-rig.ts';

describe('the mirror behind its own access rules', needs('docker-registry'), () => {
  let upstreams: Upstreams;
  let mirror: Mirror;
  let secrets: string;

  before(async () => {
    upstreams = await startUpstreams();
    secrets = await mkdtemp(join(tmpdir(), 'mirror-auth-'));
    const auth = parseAuthConfig({
      mode: 'htpasswd',
      htpasswd: await writeUsers(secrets),
      access: [{ repository: 'docker.io/**', users: ['alice'], actions: ['pull'] }],
    });
    mirror = await startMirror(upstreams, '1s', auth);
  });

  after(async () => {
    await mirror?.stop();
    await upstreams?.stop();
    if (secrets) await rm(secrets, { recursive: true, force: true });
  });

  it("asks an anonymous caller to log in and denies one without the right, filling nothing; lets a puller in with the mirror's account upstream", async () => {
    const image = await pushImage(upstreams.hubClient, 'library/guarded', '1');
    upstreams.hubProxy.reset();
    const url = `${mirror.url}/v2/guarded/manifests/1`;
    const anonymous = await fetch(url, { headers: { Accept: MANIFEST_ACCEPT } });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
    const bob = await fetch(url, { headers: { Accept: MANIFEST_ACCEPT, Authorization: basic('bob', USERS.bob) } });
    assert.equal(bob.status, 403);
    assert.deepEqual(upstreams.hubProxy.requests, [], 'nothing asked upstream for callers who may not pull');

    const alice = clientFor(mirror.host, { username: 'alice', password: USERS.alice });
    const fetched = await alice.getManifest('guarded', '1');
    assert.ok(fetched.digest.equals(image.manifest.digest), "the upstream's manifest");
    for (const layer of image.layers) assert.ok((await alice.getBlobBytes('docker.io/library/guarded', layer.digest)).equals(layer.bytes), 'the layer');
    assert.ok(upstreams.hubProxy.blobGets().length > 0, "filled from the upstream, which knows only the mirror's account");
    // A client has its last chunk once its copy hashes right; the store commits beside it.
    for (const layer of image.layers) while (!(await mirror.store.repositories.blobInfo('docker.io/library/guarded', layer.digest))) await sleep(20);
  });
});
