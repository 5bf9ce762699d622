/** analyze and gc on Berth over S3 (s3rver): the same figures and the same reclaim as on disk. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { analyze } from '../../storage/analysis.ts';
import { collectGarbage } from '../../storage/gc.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { S3Driver } from '../../storage/s3-driver.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { startS3Server, type S3Server } from '../helpers/s3-server.ts';
import { bytesOf, expectedFigures, pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';

let s3: S3Server;
let berth: RunningBerth;
let fixture: SharedFixture;
let store: Store;

before(async () => {
  s3 = await startS3Server();
  const settings = s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env);
  berth = await startBerth({ driver: new S3Driver(settings) });
  fixture = await pushSharedFixture(new RegistryAPI(berth.url));
  store = new Store(new S3Driver(settings));
});
after(async () => {
  await berth.stop();
  await s3.stop();
});

it('reports the accounting figures the fixture implies, on S3', async () => {
  const report = await analyze(store);
  const expected = expectedFigures(fixture);
  assert.equal(report.physicalBytes, expected.physicalBytes);
  assert.equal(report.logicalBytes, expected.logicalBytes);
  assert.equal(report.unreferencedBytes, expected.unreferencedBytes);
  assert.deepEqual(
    report.repositories.filter((repository) => repository.images > 0).map(({ name, images, logicalBytes, uniqueBytes, sharedBytes }) => ({ name, images, logicalBytes, uniqueBytes, sharedBytes })),
    expected.repositories,
  );
});

it('reclaims exactly the unreferenced bytes on S3, and every tag still pulls', async () => {
  const report = await collectGarbage(store, { gracePeriodMs: 0, settleMs: 0 });
  assert.equal(report.blobBytes, bytesOf(fixture.garbage));
  const afterwards = await analyze(store);
  assert.equal(afterwards.unreferencedBytes, 0);
  assert.equal(afterwards.physicalBytes, bytesOf(fixture.stored) - bytesOf(fixture.garbage));
  for (const image of fixture.images) for (const tag of image.tags) await pullCompletely(berth.url, image.repository, tag);
});
