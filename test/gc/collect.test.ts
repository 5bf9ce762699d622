import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../../analysis/analysis.ts';
import { collectGarbage } from '../../storage/gc/gc.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { onlyOnFs } from '../helpers/backend.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { run } from '../../peers/oci-image.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { totalSize, pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';

const NOW = { gracePeriodMs: 0, settleMs: 0 };
const HOUR = 60 * 60_000;
const CLI = join(import.meta.dirname, '../../cli/main.ts');

async function pullEverything(berth: RunningBerth, fixture: SharedFixture): Promise<void> {
  for (const image of fixture.images) for (const tag of image.tags) await pullCompletely(berth.url, image.repository, tag);
}

describe('gc on a registry of images sharing layers', () => {
  let berth: RunningBerth;
  let api: RegistryAPI;
  let fixture: SharedFixture;
  let store: Store;

  before(async () => {
    berth = await startBerth();
    api = new RegistryAPI(berth.url);
    fixture = await pushSharedFixture(api);
    store = new Store(berth.storage.openDriver());
  });
  after(() => berth.stop());

  it('dry-run lists exactly the unreferenced blobs and deletes nothing', async () => {
    const before = await analyze(store);
    const report = await collectGarbage(store, { ...NOW, dryRun: true });
    assert.deepEqual(report.blobs.map((blob) => blob.digest).sort(), fixture.garbage.map((blob) => `${blob.digest}`).sort());
    assert.equal(report.blobBytes, before.unreferencedBytes);
    assert.equal((await analyze(store)).physicalBytes, before.physicalBytes);
  });

  it('keeps unreferenced blobs and untagged manifests younger than the grace period', async () => {
    const report = await collectGarbage(store, { dryRun: true, gracePeriodMs: 60_000 });
    assert.equal(report.blobs.length, 0);
    assert.equal(report.youngBlobs.length, fixture.garbage.length);
    assert.equal(report.youngBlobBytes, totalSize(fixture.garbage));
    const untagged = await collectGarbage(store, { dryRun: true, gracePeriodMs: 60_000, deleteUntagged: true });
    assert.deepEqual(untagged.revisions, [], 'an index push writes its children untagged first');
    assert.equal(untagged.blobs.length, 0);
  });

  it('reclaims exactly the unreferenced bytes, and every tag still pulls', async () => {
    const before = await analyze(store);
    const report = await collectGarbage(store, NOW);
    assert.equal(report.blobBytes, totalSize(fixture.garbage));
    assert.equal(report.blobBytes, before.unreferencedBytes);
    const afterwards = await analyze(store);
    assert.equal(afterwards.physicalBytes, before.physicalBytes - report.blobBytes);
    assert.equal(afterwards.unreferencedBytes, 0);
    assert.equal(afterwards.logicalBytes, before.logicalBytes);
    const junk = fixture.garbage[0]!;
    // The link's and the blob's directories are gone (on S3: no key is left below them).
    assert.equal((await store.driver.list(`${paths.layersRoot('junk')}/sha256`)).includes(junk.digest.hex), false, 'link swept');
    assert.equal((await store.driver.list(`${paths.blobsRoot}/sha256/${junk.digest.hex.slice(0, 2)}`)).includes(junk.digest.hex), false);
    await pullEverything(berth, fixture);
    await pullCompletely(berth.url, fixture.untagged.repository, `${fixture.untagged.manifest.digest}`);
  });

  it('puts back what a gc run that stopped midway left in quarantine', async () => {
    const layer = fixture.images[0]!.reaches[4]!;
    await store.driver.move(paths.blobData(layer.digest), paths.gcQuarantine(layer.digest));
    assert.equal((await collectGarbage(store, NOW)).blobs.length, 0);
    await pullEverything(berth, fixture);
  });

  it('purges uploads idle past the maximum age', async () => {
    const started = await api.request('POST', '/v2/app1/blobs/uploads/');
    const chunk = randomBlob(777).bytes;
    const patched = await api.request('PATCH', started.headers.get('location'), {
      body: chunk,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${chunk.length - 1}` },
    });
    assert.equal(patched.status, 202);
    assert.equal((await collectGarbage(store, NOW)).uploads.length, 0, 'a fresh upload stays');
    assert.deepEqual((await analyze(store, { uploadMaxAgeMs: 0 })).staleUploads, { count: 1, bytes: 777 });
    const report = await collectGarbage(store, { ...NOW, uploadMaxAgeMs: 0 });
    assert.equal(report.uploadBytes, 777);
    assert.equal((await api.request('GET', started.headers.get('location'))).status, 404);
  });

  it(
    'purges temp files a killed process left, once idle past the grace period, and says so in the report and the dry run',
    onlyOnFs("temp files are what the fs driver's killed writes leave; gc/s3.test.ts aborts S3's abandoned multipart uploads"),
    async () => {
      const staging = join(berth.root, paths.staging);
      const plant = async (size: number, modified: Date): Promise<string> => {
        await mkdir(staging, { recursive: true });
        const file = join(staging, `write.tmp-${randomUUID()}`);
        await writeFile(file, Buffer.alloc(size));
        await utimes(file, modified, modified);
        return file;
      };
      const old = await plant(123, new Date(Date.now() - 2 * HOUR));
      const fresh = await plant(45, new Date());
      const dry = await run(process.execPath, ['--import', 'tsx', CLI, 'gc', '--storage', berth.root, '--dry-run']);
      assert.match(dry.stdout, /would delete 1 leftovers of interrupted writes .*\(123 bytes\)/);
      assert.equal(existsSync(old), true, 'a dry run deletes nothing');
      const report = await collectGarbage(store, { gracePeriodMs: HOUR, settleMs: 0 });
      assert.deepEqual(report.staleWrites, { count: 1, bytes: 123 });
      assert.equal(existsSync(old), false, 'the temp file idle past the grace period is gone');
      assert.equal(existsSync(fresh), true, 'a fresh temp file (a write in progress) stays');
      // A grace period of 0 still spares a write touched a minute ago: it may be under way.
      const recent = await plant(67, new Date(Date.now() - 60_000));
      await collectGarbage(store, { gracePeriodMs: 0, settleMs: 0 });
      assert.equal(existsSync(recent), true, 'a temp file idle for a minute stays, even with no grace period');
      await rm(fresh);
      await rm(recent);
    },
  );

  it('purges an upload directory a killed delete left without its start time', async () => {
    const id = randomUUID();
    await store.driver.putContent(paths.uploadState('app1', id), '{"algorithm":"sha256"}');
    await berth.storage.backdate(paths.uploadState('app1', id), new Date(Date.now() - 48 * HOUR));
    const report = await collectGarbage(store, NOW);
    assert.deepEqual(
      report.uploads.map((upload) => upload.id),
      [id],
    );
    assert.equal((await store.driver.list(paths.uploadsRoot('app1'))).includes(id), false, 'the upload directory is gone');
  });

  it('with --delete-untagged, drops untagged manifests, what only they reach, and referrers of what goes', async () => {
    const { repository, manifest: untagged, reaches } = fixture.untagged;
    const v1 = fixture.images.find((image) => image.repository === 'app2')!.manifest;
    const referrer = async (subject: TestBlob, label: string): Promise<TestBlob[]> => {
      const config = blobOf(`{"signature":"${label}"}`);
      const payload = randomBlob(300);
      for (const blob of [config, payload]) await api.pushBlob(repository, blob);
      const manifest = imageManifest(config, [payload], { subject, artifactType: 'application/vnd.example.signature' });
      assert.equal((await api.pushManifest(repository, `${manifest.digest}`, manifest)).status, 201);
      return [manifest, config, payload];
    };
    const [keptReferrer] = await referrer(v1, 'v1');
    const doomedReferrer = await referrer(untagged, 'untagged');
    const base = reaches[2]!;
    const doomed = [...reaches.filter((blob) => blob !== base), ...doomedReferrer];

    const report = await collectGarbage(store, { ...NOW, deleteUntagged: true });
    assert.deepEqual(report.blobs.map((blob) => blob.digest).sort(), doomed.map((blob) => `${blob.digest}`).sort());
    assert.equal(report.blobBytes, totalSize(doomed));
    assert.equal((await api.request('GET', `/v2/${repository}/manifests/${untagged.digest}`)).status, 404);
    await pullCompletely(berth.url, repository, `${keptReferrer!.digest}`);
    const listed = (await (await api.request('GET', `/v2/${repository}/referrers/${v1.digest}`)).json()) as { manifests: unknown[] };
    assert.equal(listed.manifests.length, 1);
    await pullEverything(berth, fixture);
  });

  it('runs as `berth gc`, with --dry-run printing what would go, timings from flags or the config file', async () => {
    const orphan = randomBlob(4321);
    await api.pushBlob('app1', orphan);
    // The storage's own config file (S3 with the fast paths off) where the flags give no other.
    const gc = async (...args: string[]) => {
      const config = args.includes('--config') ? [] : ['--config', await berth.storage.configFile()];
      return run(process.execPath, ['--import', 'tsx', CLI, 'gc', '--storage', berth.storage.location, ...config, ...args], {
        env: { ...process.env, ...berth.storage.env },
      });
    };
    const dry = await gc('--dry-run', '--grace-period', '0');
    assert.match(dry.stdout, new RegExp(`would delete blob ${orphan.digest}`));
    assert.match(dry.stdout, /would free 4\.22 KiB \(4321 bytes\)/);
    const young = await gc('--dry-run');
    assert.match(young.stdout, /kept 4\.22 KiB \(4321 bytes\) in 1 unreferenced blobs younger than the grace period \(1h, set with --grace-period/);
    const config = await berth.storage.configFile('gc:\n  gracePeriod: 0s\n  settle: 0\n');
    const done = await gc('--config', config, '--json');
    assert.equal(JSON.parse(done.stdout).blobBytes, 4321);
    assert.equal((await api.request('HEAD', `/v2/app1/blobs/${orphan.digest}`)).status, 404);
  });
});
