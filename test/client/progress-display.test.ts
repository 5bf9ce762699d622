/** Transfer progress as the CLI shows it (issue 20, item 9): sizes in binary units and rates, not raw byte counts. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { BarProgress } from '../../cli/progress-bars.ts';
import { LineProgress } from '../../cli/progress-display.ts';

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const MiB = 1024 * 1024;

describe('progress display', () => {
  test('bars on a terminal show sizes in MiB and a rate', () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 160 }) as unknown as NodeJS.WriteStream;
    let drawn = '';
    (terminal as unknown as PassThrough).on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const bars = new BarProgress(terminal);
    bars.start(DIGEST, 12 * MiB);
    bars.advance(DIGEST, 3 * MiB);
    bars.finish(DIGEST, 'fetched');
    bars.close();
    assert.match(drawn, /ab12ab12ab12 fetched \[[^\]]+\] 100% \| +12\.0 MiB\/ +12\.0 MiB \| [\d.]+ (B|KiB|MiB|GiB)\/s/);
    assert.match(drawn, /total \[[^\]]+\] +25% \| +3\.00 MiB\/ +12\.0 MiB \| [\d.]+ (B|KiB|MiB|GiB)\/s/);
    assert.doesNotMatch(drawn, /\d{6,}/, 'no raw byte counts');
  });

  test('lines for logs give the size, and for a transfer its time and rate', () => {
    const lines: string[] = [];
    const progress = new LineProgress((line) => lines.push(line));
    progress.start(DIGEST);
    progress.finish(DIGEST, 'fetched', 3 * MiB);
    progress.finish(`sha256:${'cd34'.repeat(16)}`, 'present', 1536);
    assert.match(lines[0]!, /^ab12ab12ab12: fetched 3\.00 MiB in \d+\.\d s, [\d.]+ (B|KiB|MiB|GiB|TiB)\/s$/);
    assert.equal(lines[1], 'cd34cd34cd34: present 1.50 KiB');
  });
});
