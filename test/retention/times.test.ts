/**
 * Push and pull times in storage (issue 22 "Push and pull times"; design.md §8 Retention): written on
 * manifest PUT, and for pulls at most once per manifest, repository and hour, in the background.
 */
import assert from 'node:assert/strict';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { ImageTimeStore, PULL_WRITE_INTERVAL_MS } from '../../storage/image-times.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { paths } from '../../storage/paths.ts';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { startS3Server } from '../../peers/s3-server.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { tempStore } from '../helpers/client-fixtures.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

/** Pushes a one-layer image and returns its manifest digest. */
async function pushImage(api: RegistryAPI, repository: string, tag: string): Promise<Digest> {
  const layer = randomBlob(2000);
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`${layer.digest}`] } }));
  for (const blob of [config, layer]) await api.pushBlob(repository, blob);
  const manifest = imageManifest(config, [layer]);
  assert.equal((await api.pushManifest(repository, tag, manifest)).status, 201);
  return manifest.digest;
}

/** The stored pull time, waiting up to 5 s for the background write. */
async function pulledAt(root: string, name: string, digest: Digest, notBefore = 0): Promise<Date | undefined> {
  const file = join(root, paths.pulledAt(name, digest));
  for (let i = 0; i < 100; i++) {
    const time = await readFile(file, 'utf8').then(
      (text) => new Date(text),
      () => undefined,
    );
    if (time && time.getTime() >= notBefore) return time;
    await sleep(50);
  }
  return undefined;
}

describe('push and pull times on disk', () => {
  let berth: RunningBerth;
  let api: RegistryAPI;
  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
  });
  after(() => berth.stop());

  it('a manifest PUT writes the pushed time; a GET writes the pulled time once, in the background', async () => {
    const started = Date.now();
    const digest = await pushImage(api, 'team/app', 'v1');
    const pushed = new Date(await readFile(join(berth.root, paths.pushedAt('team/app', digest)), 'utf8'));
    assert.ok(pushed.getTime() >= started - 1000 && pushed.getTime() <= Date.now(), `pushed time ${pushed.toISOString()} is the PUT's`);
    await assert.rejects(stat(join(berth.root, paths.pulledAt('team/app', digest))), 'a push is no pull');

    const head = await api.request('HEAD', '/v2/team/app/manifests/v1');
    assert.equal(head.status, 200);
    await sleep(200);
    await assert.rejects(stat(join(berth.root, paths.pulledAt('team/app', digest))), 'a HEAD is no pull');

    assert.equal((await api.request('GET', '/v2/team/app/manifests/v1')).status, 200);
    const first = await pulledAt(berth.root, 'team/app', digest);
    assert.ok(first, 'the pull time was written');
    const file = join(berth.root, paths.pulledAt('team/app', digest));
    const written = (await stat(file)).mtimeMs;
    for (let i = 0; i < 5; i++) assert.equal((await api.request('GET', `/v2/team/app/manifests/${digest}`)).status, 200);
    await sleep(300);
    assert.equal((await stat(file)).mtimeMs, written, 'within the hour, this process does not write again (README "Retention")');
  });

  it('another process reads the stored time first: younger than an hour, it writes nothing; older, it writes', async () => {
    const digest = await pushImage(api, 'other', 'v1');
    const driver = new FsDriver(berth.root);
    const file = join(berth.root, paths.pulledAt('other', digest));
    const halfHourAgo = new Date(Date.now() - 30 * 60_000);
    await driver.putContent(paths.pulledAt('other', digest), halfHourAgo.toISOString());
    const replica = new ImageTimeStore(driver);
    replica.notePulled('other', digest);
    await replica.settled();
    assert.equal(await readFile(file, 'utf8'), halfHourAgo.toISOString(), 'a replica saw a recent pull: no write');

    const later = Date.now() + PULL_WRITE_INTERVAL_MS;
    replica.notePulled('other', digest, later);
    await replica.settled();
    assert.equal(await readFile(file, 'utf8'), new Date(later).toISOString(), 'an hour after the stored time, the next pull writes');
    assert.deepEqual((await replica.read('other', digest)).pulled, new Date(later));
  });

  it('a failed write is logged, never the pull’s error', async () => {
    const digest = Digest.of(Buffer.from('x'));
    const lines: string[] = [];
    const broken = new ImageTimeStore(new FsDriver(join(berth.root, 'missing', '\0bad')), (line) => lines.push(line));
    broken.notePulled('a', digest);
    await broken.settled();
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /recording the pull of a@sha256:/);
  });

  it('a manifest pushed before Berth kept times falls back to its revision link’s time', async () => {
    const digest = await pushImage(api, 'legacy', 'v1');
    const old = new Date('2020-01-02T03:04:05Z');
    const driver = new FsDriver(berth.root);
    await driver.delete(paths.pushedAt('legacy', digest));
    await utimes(join(berth.root, paths.revisionLink('legacy', digest)), old, old);
    assert.deepEqual((await new ImageTimeStore(driver).read('legacy', digest)).pushed, old);
  });
});

describe('pulls through real clients record the pulled time', needs('skopeo', 'umoci'), () => {
  let berth: RunningBerth;
  before(async () => {
    berth = await startBerth();
  });
  after(() => berth.stop());

  it('skopeo copy and berth pull each leave a pulled time (issue 22 "Tests")', async () => {
    const layout = await buildImage('v1', [3000]);
    await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/peers/app:v1`);
    const api = new RegistryAPI(berth.url);
    const digest = Digest.parse((await api.request('HEAD', '/v2/peers/app/manifests/v1')).headers.get('docker-content-digest')!);
    await sleep(200);
    await assert.rejects(stat(join(berth.root, paths.pulledAt('peers/app', digest))), 'pushing is no pull');

    await skopeoCopy(`docker://${berth.host}/peers/app:v1`, `oci:${layout}:copy`);
    assert.ok(await pulledAt(berth.root, 'peers/app', digest), 'skopeo’s pull was recorded');

    // A pull an hour later (as far as storage says) by another client is recorded again.
    const stale = new Date(Date.now() - 2 * PULL_WRITE_INTERVAL_MS).toISOString();
    await writeFile(join(berth.root, paths.pulledAt('peers/app', digest)), stale);
    const second = await startBerth({ root: berth.root });
    try {
      const { store, remove } = await tempStore();
      try {
        const pulled = await runBerth(['pull', `${second.host}/peers/app:v1`, '--store', store.dir]);
        assert.equal(pulled.code, 0, pulled.stderr);
        assert.ok(await pulledAt(berth.root, 'peers/app', digest, Date.now() - 60_000), 'berth pull’s pull was recorded');
      } finally {
        await remove();
      }
    } finally {
      await second.stop();
    }
  });
});

describe('push and pull times on S3', () => {
  it('are written and read back through the S3 driver', async () => {
    const s3 = await startS3Server();
    const driver = new S3Driver(s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env));
    try {
      const times = new ImageTimeStore(driver);
      const digest = Digest.of(Buffer.from('manifest'));
      const pushed = new Date('2026-01-01T00:00:00Z');
      await times.recordPushed('ci/app', digest, pushed);
      times.notePulled('ci/app', digest);
      await times.settled();
      const read = await times.read('ci/app', digest);
      assert.deepEqual(read.pushed, pushed);
      assert.ok(read.pulled && Date.now() - read.pulled.getTime() < 60_000, 'the pull was recorded just now');
      await times.forget('ci/app', digest);
      assert.deepEqual(await times.read('ci/app', digest), {});
    } finally {
      await driver.close?.();
      await s3.stop();
    }
  });
});
