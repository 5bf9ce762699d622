/**
 * The catalog one walk serves (RepositoryStore.recentCatalog): a client paging through a large
 * catalog (`/v2/_catalog?n=…`, Link headers) gets every page from one walk of storage per worker,
 * however long that walk took, and a later client gets a fresh walk.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { Driver } from '../../storage/driver.ts';
import { CATALOG_REUSE_MS, RepositoryStore } from '../../storage/repository-store.ts';

/** A bucket whose repository listings wait until the test ends them. */
function slowBucket() {
  const listings: { end(names: string[]): void; fail(error: Error): void }[] = [];
  const driver = {
    listCommonPrefixes: () =>
      new Promise<string[]>((resolve, reject) => {
        listings.push({ end: resolve, fail: reject });
      }),
  } as unknown as Driver;
  return { store: new RepositoryStore(driver, {} as BlobStore), listings };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('recent catalog', () => {
  it('serves the pages asked for during a long walk, and for as long again after its end, from that walk', async (t) => {
    let now = 0;
    t.mock.method(Date, 'now', () => now);
    const { store, listings } = slowBucket();
    const first = store.recentCatalog();
    now = 10_000; // the walk takes ten seconds: longer than the reuse window
    const during = store.recentCatalog();
    await tick();
    assert.equal(listings.length, 1, 'a page asked for during the walk waits for it');
    listings[0]!.end(['b', 'a']);
    assert.deepEqual(await first, ['a', 'b']);
    assert.deepEqual(await during, ['a', 'b']);
    now = 10_000 + 10_000 + CATALOG_REUSE_MS;
    const page = store.recentCatalog();
    await tick();
    assert.equal(listings.length, 1, 'pages come from it for as long again as it took, and a little more (another worker may be walking meanwhile)');
    assert.deepEqual(await page, ['a', 'b']);
    now += 1;
    const later = store.recentCatalog();
    await tick();
    assert.equal(listings.length, 2, 'a client coming later gets a fresh walk');
    listings[1]!.end(['c']);
    assert.deepEqual(await later, ['c']);
  });

  it('does not keep a walk that failed', async () => {
    const { store, listings } = slowBucket();
    const failed = store.recentCatalog();
    await tick();
    listings[0]!.fail(new Error('bucket unreachable'));
    await assert.rejects(failed, /bucket unreachable/);
    const again = store.recentCatalog();
    await tick();
    assert.equal(listings.length, 2, 'the next request walks again');
    listings[1]!.end(['a']);
    assert.deepEqual(await again, ['a']);
  });
});
