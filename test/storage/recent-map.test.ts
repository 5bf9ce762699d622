/** RecentMap (storage/recent-map.ts): what the blob sizes, upload hashes and cache admissions are remembered in. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentMap } from '../../storage/recent-map.ts';

describe('RecentMap', () => {
  it('forgets the oldest entry to make room, and not when a key it holds is set again', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    assert.deepEqual(
      [...map],
      [
        ['a', 3],
        ['b', 2],
      ],
    );
    map.set('c', 4);
    assert.deepEqual(
      [...map],
      [
        ['b', 2],
        ['c', 4],
      ],
    );
  });
});
