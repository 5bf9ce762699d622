import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { mapLimit } from '../../client/parallel.ts';

describe('mapLimit', () => {
  test('keeps results in input order with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapLimit([30, 5, 20, 1, 10], 2, async (ms) => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      inFlight--;
      return ms * 2;
    });
    assert.deepEqual(results, [60, 10, 40, 2, 20]);
    assert.equal(most, 2);
  });

  test('after a failure starts nothing new and rejects with the first error once started work has settled', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const outcome = mapLimit([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('first');
      await sleep(30);
      finished.push(item);
      if (item === 0) throw new Error('second');
      return item;
    });
    await assert.rejects(outcome, /first/);
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(finished, [0], 'the sibling already running finished before the call settled');
  });
});
