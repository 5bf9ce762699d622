/**
 * Issue 23: real clients pulling through the mirror the way each is configured for one: skopeo by
 * path prefix, podman with a `registries.conf` mirror (`location = "host/docker.io"`), containerd's
 * `ctr` with a `hosts.toml` mirror (requests carry `?ns=docker.io`). Images are real (umoci), on
 * Distribution 2.8.2 with htpasswd behind a counting proxy.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { startContainerd, type Containerd } from './containerd.ts';
import { GHCR_USER, HUB_USER, startMirror, startUpstreams, type Mirror, type Upstreams } from './mirror-rig.ts';

const CLIENTS = ['skopeo', 'podman', 'ctr'] as const;

describe('real clients through the mirror', needs('docker-registry', 'skopeo', 'umoci'), () => {
  let upstreams: Upstreams;
  let mirror: Mirror;
  let scratch: string;
  let layout: string | undefined;

  before(async () => {
    upstreams = await startUpstreams();
    mirror = await startMirror(upstreams);
    scratch = await mkdtemp(join(tmpdir(), 'mirror-clients-'));
    // One image of its own per client, so each pull starts cold.
    for (const client of CLIENTS) {
      layout = await buildImage(client, [150_000, 60_000], layout);
      // ctr's goes to the token upstream, ghcr.io: only `?ns=ghcr.io` sends a bare `team/…` there.
      const [destination, user] = client === 'ctr' ? [`${upstreams.ghcr.host}/team`, GHCR_USER] : [`${upstreams.hub.host}/library`, HUB_USER];
      await skopeoCopy(`oci:${layout}:${client}`, `docker://${destination}/${client}-image:1`, ['--dest-creds', `${user.username}:${user.password}`]);
    }
  });

  after(async () => {
    await mirror?.stop();
    await upstreams?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    // buildImage's layout sits in a temp directory of its own.
    if (layout) await rm(dirname(layout), { recursive: true, force: true });
  });

  it('skopeo, by path prefix: the second copy moves no blob bytes upstream', async () => {
    upstreams.hubProxy.reset();
    await skopeoCopy(`docker://${mirror.host}/docker.io/library/skopeo-image:1`, `oci:${join(scratch, 'skopeo-1')}:1`);
    assert.ok(upstreams.hubProxy.blobBytes() > 210_000, `first copy: ${upstreams.hubProxy.blobBytes()} bytes upstream`);
    upstreams.hubProxy.reset();
    await skopeoCopy(`docker://${mirror.host}/docker.io/library/skopeo-image:1`, `oci:${join(scratch, 'skopeo-2')}:1`);
    assert.equal(upstreams.hubProxy.blobBytes(), 0);
  });

  it('podman, with a registries.conf mirror: pulls docker.io/library/… through Berth', needs('podman'), async () => {
    const conf = join(scratch, 'registries.conf');
    await writeFile(
      conf,
      [
        '[[registry]]',
        'prefix = "docker.io"',
        'location = "docker.io"',
        '[[registry.mirror]]',
        `location = "${mirror.host}/docker.io"`,
        'insecure = true',
        '',
      ].join('\n'),
    );
    const pull = async (store: string) => {
      const root = join(scratch, store);
      const args = [
        '--root',
        join(root, 'root'),
        '--runroot',
        join(root, 'run'),
        '--storage-driver',
        'vfs',
        'pull',
        '--quiet',
        'docker.io/library/podman-image:1',
      ];
      await run('podman', args, { env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf }, maxBuffer: 1 << 24 });
    };
    upstreams.hubProxy.reset();
    await pull('podman-1');
    assert.ok(upstreams.hubProxy.blobBytes() > 210_000, `first pull: ${upstreams.hubProxy.blobBytes()} bytes upstream`);
    upstreams.hubProxy.reset();
    await pull('podman-2');
    assert.equal(upstreams.hubProxy.blobBytes(), 0, 'a second podman (empty storage) moves no blob bytes upstream');
  });

  describe('ctr, with a hosts.toml mirror (?ns=ghcr.io)', needs('ctr'), () => {
    let containerd: Containerd;
    before(async () => {
      containerd = await startContainerd();
    });
    after(async () => {
      await containerd?.stop();
    });

    it('fetches ghcr.io/team/… through Berth from the token upstream; the image is then cached for every client', async () => {
      const hosts = await containerd.mirrorHosts('ghcr.io', mirror.host);
      upstreams.ghcrProxy.reset();
      await containerd.ctr(['content', 'fetch', '--hosts-dir', hosts, '--all-platforms', 'ghcr.io/team/ctr-image:1']);
      assert.ok(upstreams.ghcrProxy.blobBytes() > 210_000, `first fetch: ${upstreams.ghcrProxy.blobBytes()} bytes upstream`);
      assert.ok(await mirror.store.repositories.resolveTag('ghcr.io/team/ctr-image', '1'), 'kept under the name the prefix and ?ns= share');
      upstreams.ghcrProxy.reset();
      await skopeoCopy(`docker://${mirror.host}/ghcr.io/team/ctr-image:1`, `oci:${join(scratch, 'ctr-again')}:1`);
      assert.equal(upstreams.ghcrProxy.blobBytes(), 0);
    });
  });
});
