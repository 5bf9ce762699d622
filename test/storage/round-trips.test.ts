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
import { startRedisServer, type RedisServer } from '../../peers/redis-server.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import { LinkCache } from '../../storage/link-cache.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { needs } from '../helpers/peers.ts';

/** Berth's S3 requests per operation (README "S3 round trips"), on the bucket alone. */
const EXPECTED: Record<Operation, RoundTrips> = {
  'monolithic upload': { requests: 13, sequential: 8 },
  'chunked upload (2 chunks)': { requests: 25, sequential: 16 },
  'blob HEAD': { requests: 1, sequential: 1 },
  'blob GET': { requests: 2, sequential: 1 },
  mount: { requests: 4, sequential: 3 },
  'manifest PUT by tag': { requests: 11, sequential: 4 },
  'manifest GET by tag': { requests: 1, sequential: 1 },
  'tag delete': { requests: 4, sequential: 3 },
};

/** The same with lookups shared through Redis (storage.s3.redis): what Redis answers never reaches the bucket. */
const EXPECTED_WITH_REDIS: Record<Operation, RoundTrips> = {
  ...EXPECTED,
  'blob HEAD': { requests: 0, sequential: 0 },
  'blob GET': { requests: 1, sequential: 1 },
  mount: { requests: 2, sequential: 2 },
  'manifest PUT by tag': { requests: 7, sequential: 3 },
  'manifest GET by tag': { requests: 0, sequential: 0 },
  'tag delete': { requests: 3, sequential: 2 },
};

for (const shared of [false, true]) {
  describe(
    `S3 round trips per registry operation${shared ? ', lookups shared through Redis' : ''}`,
    { timeout: 120_000, ...(shared ? needs('redis-server') : {}) },
    () => {
      let s3: S3Server;
      let proxy: LatencyProxy;
      let redis: RedisServer | undefined;
      let berth: RunningBerth;

      before(async () => {
        s3 = await startS3Server('round-trips');
        // More than a bucket's 15 ms: requests sent together on a busy machine still arrive well within one round trip.
        proxy = await startLatencyProxy(s3.endpoint, { latencyMs: 40 });
        const s3Driver = new S3Driver(s3Settings(`s3://${s3.bucket}/berth`, {}, { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }));
        redis = shared ? await startRedisServer() : undefined;
        berth = await startBerth({ driver: redis ? await LinkCache.open(s3Driver, redis.url) : s3Driver });
      });

      after(async () => {
        await berth?.stop();
        await proxy?.stop();
        await Promise.all([s3?.stop(), redis?.stop()]);
      });

      it('makes no more S3 requests, and no more one after another, than the table says (distribution-spec end-2, end-3, end-4, end-5, end-6, end-7, end-9, end-11)', async () => {
        const counts = await countRoundTrips(berth.url, proxy);
        assert.deepEqual(Object.fromEntries(counts), shared ? EXPECTED_WITH_REDIS : EXPECTED, 'S3 requests per operation changed');
      });
    },
  );
}
