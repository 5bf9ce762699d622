/**
 * S3 requests per registry operation (issue 27), counted at a proxy in front of s3rver that adds
 * a bucket's latency, so that requests sent together and requests sent one after another differ.
 * A change that adds a round trip to an operation fails here; one that removes one updates the
 * table, and the README's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countRoundTrips, type Operation } from '../../bench/round-trips.ts';
import { startLatencyProxy, type LatencyProxy, type RoundTrips } from '../../peers/latency-proxy.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';

/** Berth's S3 requests per operation (README "S3 round trips"). */
const EXPECTED: Record<Operation, RoundTrips> = {
  'monolithic upload': { requests: 22, sequential: 22 },
  'chunked upload (2 chunks)': { requests: 28, sequential: 28 },
  'blob HEAD': { requests: 1, sequential: 1 },
  'blob GET': { requests: 2, sequential: 1 },
  mount: { requests: 4, sequential: 3 },
  'manifest PUT by tag': { requests: 16, sequential: 6 },
  'manifest GET by tag': { requests: 2, sequential: 2 },
  'tag delete': { requests: 5, sequential: 5 },
};

describe('S3 round trips per registry operation', () => {
  let s3: S3Server;
  let proxy: LatencyProxy;
  let berth: RunningBerth;

  before(async () => {
    s3 = await startS3Server('round-trips');
    proxy = await startLatencyProxy(s3.endpoint);
    const env = { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
    berth = await startBerth({ driver: new S3Driver(s3Settings(`s3://${s3.bucket}/berth`, {}, env)) });
  });

  after(async () => {
    await berth?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  it('makes no more S3 requests, and no more one after another, than the table says (distribution-spec end-2, end-3, end-4, end-5, end-6, end-7, end-9, end-11)', async () => {
    const counts = await countRoundTrips(berth.url, proxy);
    assert.deepEqual(Object.fromEntries(counts), EXPECTED, 'S3 requests per operation changed');
  });
});
