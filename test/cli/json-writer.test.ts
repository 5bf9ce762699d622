/**
 * `berth analyze --json` and `berth gc --json` write their report a piece at a time (issue 29:
 * the analysis of 20,000 repositories is 26 MB of JSON), and the text is JSON.stringify's.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { writeJson } from '../../cli/json-writer.ts';

/** What writeJson writes, and each write's length. */
async function written(value: unknown): Promise<{ text: string; writes: number[] }> {
  const chunks: string[] = [];
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await writeJson(sink, value);
  return { text: chunks.join(''), writes: chunks.map((chunk) => chunk.length) };
}

describe('writeJson', () => {
  it('writes what JSON.stringify(value, null, 2) does, and a newline', async () => {
    const values: unknown[] = [
      {},
      [],
      null,
      42,
      'two\nlines "quoted"',
      { skipped: undefined, fn: () => 1, kept: [undefined, () => 1, { when: new Date(0) }], empty: {}, none: [], deep: { list: [1, [2, [3]]] } },
      [[], {}, [[]], { inner: [] }],
      { symbol: Symbol('s'), nested: { items: [{ a: 1, b: [1, 2] }, 'x'] } },
      new Date(5),
      { toJSON: () => ({ replaced: true }) },
      { map: new Map([['a', 1]]), unicode: 'é ✓ \u2028' },
    ];
    for (const value of values) assert.equal((await written(value)).text, `${JSON.stringify(value, null, 2)}\n`);
  });

  it('never writes the text of a large report at once', async () => {
    const report = { images: Array.from({ length: 20_000 }, (_, i) => ({ repository: `team/app-${i}`, tags: ['v1', 'v2'], bytes: i })) };
    const { text, writes } = await written(report);
    assert.equal(text, `${JSON.stringify(report, null, 2)}\n`);
    assert.ok(writes.length > 10, `${writes.length} writes`);
    assert.ok(Math.max(...writes) < 70_000, `largest write ${Math.max(...writes)} characters of ${text.length}`);
  });
});
