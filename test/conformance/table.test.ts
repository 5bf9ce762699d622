/** conformance/README.md's table of the official suite's specs and our counterparts holds together. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allCheckIds } from './check-ids.ts';
import { officialTable } from './official-table.ts';

describe("the official suite's table", () => {
  it('names real checks, or a workflow setup, or none, for each of the 79 specs of v1.1.1', async () => {
    const rows = await officialTable();
    assert.equal(rows.length, 79);
    const ids = new Set(allCheckIds());
    for (const row of rows) {
      assert.ok(
        row.ids.every((id) => ids.has(id)),
        `${row.official}: ${row.ours} names a check the runner lacks`,
      );
      assert.ok(
        row.ids.length > 0 || /^(pull|discovery|management) setup$|^none$/.test(row.ours),
        `${row.official}: "${row.ours}" is neither a check nor a setup nor none`,
      );
    }
    const counts = { checks: rows.filter((row) => row.ids.length > 0).length, setups: rows.filter((row) => row.ours.endsWith(' setup')).length };
    assert.deepEqual(counts, { checks: 66, setups: 11 });
  });
});
