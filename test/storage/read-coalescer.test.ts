/**
 * Shared reads (storage/drivers/s3/read-coalescer.ts): concurrent reads of one key cost one request per round
 * trip, and no caller is ever answered by a request that started before it arrived, so a change
 * made before a read is always seen by it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadCoalescer } from '../../storage/drivers/s3/read-coalescer.ts';

/** A storage whose reads wait until the test lets them answer. */
class SlowStore {
  value = 'old';
  readonly started: { value: string; answer(): void; fail(error: Error): void }[] = [];

  read(): Promise<string> {
    return new Promise((resolve, reject) => {
      const seen = this.value; // what storage held when the request reached it
      this.started.push({ value: seen, answer: () => resolve(seen), fail: reject });
    });
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadCoalescer', () => {
  it('callers arriving while a read is in flight share one read started after it, not the one in flight', async () => {
    const store = new SlowStore();
    const reads = new ReadCoalescer<string>();
    const first = reads.read('k', () => store.read());
    store.value = 'new'; // written after the first read reached storage
    const late = [reads.read('k', () => store.read()), reads.read('k', () => store.read()), reads.read('k', () => store.read())];
    await tick();
    assert.equal(store.started.length, 1, 'nothing else is asked while the first read is in flight');
    store.started[0]!.answer();
    assert.equal(await first, 'old');
    await tick();
    assert.equal(store.started.length, 2, 'the three callers that came meanwhile share one read');
    store.started[1]!.answer();
    assert.deepEqual(await Promise.all(late), ['new', 'new', 'new'], 'each sees what was written before it arrived');
  });

  it('other keys are read on their own', async () => {
    const store = new SlowStore();
    const reads = new ReadCoalescer<string>();
    const a = reads.read('a', () => store.read());
    const b = reads.read('b', () => store.read());
    await tick();
    assert.equal(store.started.length, 2);
    for (const read of store.started) read.answer();
    assert.deepEqual(await Promise.all([a, b]), ['old', 'old']);
  });

  it('a failed read fails the callers that shared it, and the next caller reads again', async () => {
    const store = new SlowStore();
    const reads = new ReadCoalescer<string>();
    const first = reads.read('k', () => store.read());
    const shared = [reads.read('k', () => store.read()), reads.read('k', () => store.read())];
    store.started[0]!.answer();
    await first;
    await tick();
    store.started[1]!.fail(new Error('storage unreachable'));
    for (const read of shared) await assert.rejects(read, /storage unreachable/);
    const again = reads.read('k', () => store.read());
    await tick();
    assert.equal(store.started.length, 3, 'a caller after the failure starts a read of its own at once');
    store.started[2]!.answer();
    assert.equal(await again, 'old');
  });

  it('once every read has settled, the next caller is not held behind anything', async () => {
    const store = new SlowStore();
    const reads = new ReadCoalescer<string>();
    for (let round = 0; round < 3; round++) {
      const read = reads.read('k', () => store.read());
      await tick();
      assert.equal(store.started.length, round + 1, `round ${round} starts its own read at once`);
      store.started[round]!.answer();
      await read;
      await tick();
    }
  });
});
