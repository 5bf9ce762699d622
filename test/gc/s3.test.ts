/** analyze and gc on Berth over S3 (s3rver): the same figures and the same reclaim as on disk. */
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { analyze } from '../../analysis/analysis.ts';
import { collectGarbage } from '../../storage/gc/gc.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { S3Bucket } from '../../storage/drivers/s3/s3-bucket.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { Store } from '../../storage/store.ts';
import { backend } from '../helpers/backend.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { totalSize, expectedFigures, pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';

/** On an s3rver of its own whatever the test backend: run once, with `fs`, not again with the S3 backends. */
const once = backend === 'fs' ? {} : { skip: 'S3 on an s3rver of its own, whatever the backend: run with fs' };

let s3: S3Server;
let berth: RunningBerth;
let fixture: SharedFixture;
let store: Store;
/** The bucket behind the registry, for what a killed process leaves there. */
let bucket: S3Bucket;

before(async () => {
  if (once.skip) return;
  s3 = await startS3Server();
  const settings = s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env);
  berth = await startBerth({ driver: new S3Driver(settings) });
  fixture = await pushSharedFixture(new RegistryAPI(berth.url));
  store = new Store(new S3Driver(settings));
  bucket = new S3Bucket(settings);
});
after(async () => {
  if (once.skip) return;
  bucket.close();
  await berth.stop();
  await s3.stop();
});

it('reports the accounting figures the fixture implies, on S3', once, async () => {
  const report = await analyze(store);
  const expected = expectedFigures(fixture);
  assert.equal(report.physicalBytes, expected.physicalBytes);
  assert.equal(report.logicalBytes, expected.logicalBytes);
  assert.equal(report.unreferencedBytes, expected.unreferencedBytes);
  assert.deepEqual(
    report.repositories
      .filter((repository) => repository.images > 0)
      .map(({ name, images, logicalBytes, uniqueBytes, sharedBytes }) => ({ name, images, logicalBytes, uniqueBytes, sharedBytes })),
    expected.repositories,
  );
});

it('reclaims exactly the unreferenced bytes on S3, and every tag still pulls', once, async () => {
  const report = await collectGarbage(store, { gracePeriodMs: 0, settleMs: 0 });
  assert.equal(report.blobBytes, totalSize(fixture.garbage));
  const afterwards = await analyze(store);
  assert.equal(afterwards.unreferencedBytes, 0);
  assert.equal(afterwards.physicalBytes, totalSize(fixture.stored) - totalSize(fixture.garbage));
  for (const image of fixture.images) for (const tag of image.tags) await pullCompletely(berth.url, image.repository, tag);
});

it('aborts the multipart uploads a killed process left, once idle past the grace period, and only in its own prefix', once, async () => {
  const Bucket = s3.bucket;
  /** A multipart upload with one part of 1,000 bytes, never completed: what a write cut off by SIGKILL leaves. */
  const leave = async (Key: string): Promise<string> => {
    const { UploadId } = await bucket.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await bucket.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1000) }));
    return UploadId!;
  };
  const uploads = async () => ((await bucket.client.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).map((upload) => upload.UploadId).sort();
  const blobKey = (name: string) => `registry/docker/registry/v2/blobs/sha256/86/${name}/data`;
  const abandoned = await leave(blobKey('abandoned'));
  const elsewhere = await leave('not-the-registry/data');
  const grace = { gracePeriodMs: 1000, settleMs: 0, staleWriteIdleMs: 1000 };
  await sleep(1500);
  const dry = await collectGarbage(store, { ...grace, dryRun: true });
  assert.deepEqual(dry.staleWrites, { count: 1, bytes: 1000 });
  assert.deepEqual(await uploads(), [abandoned, elsewhere].sort(), 'a dry run aborts nothing');
  const fresh = await leave(blobKey('fresh'));
  const report = await collectGarbage(store, grace);
  assert.deepEqual(report.staleWrites, { count: 1, bytes: 1000 });
  assert.deepEqual(await uploads(), [elsewhere, fresh].sort(), 'the idle upload is aborted; one outside the prefix and a fresh one stay');
});
