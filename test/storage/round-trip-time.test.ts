/** How far the bucket is, as the S3 driver judges it before choosing one GET or parallel parts for a large read. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RoundTripTime } from '../../storage/drivers/s3/round-trip-time.ts';

describe('round trip time of small requests', () => {
  test('is unknown before an answer, then the fastest of the last 32', async () => {
    const time = new RoundTripTime();
    assert.equal(time.fastest, undefined);
    for (const milliseconds of [40, 12, 30]) time.record(milliseconds);
    assert.equal(time.fastest, 12, 'a slow answer under load does not hide the usual one');
    for (let i = 0; i < 32; i++) time.record(20 + i);
    assert.equal(time.fastest, 20, 'answers older than the last 32 are forgotten');
    assert.equal(await time.timed(async () => 'answer'), 'answer');
    assert.ok(time.fastest! < 20, 'a timed request is recorded');
  });

  test('a request that fails is not recorded', async () => {
    const time = new RoundTripTime();
    await assert.rejects(time.timed(() => Promise.reject(new Error('refused'))));
    assert.equal(time.fastest, undefined);
  });
});
