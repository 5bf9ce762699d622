/**
 * BERTH_NO_ADDONS=1 runs Berth as on a machine where `npm install` could not build the native
 * addons; `npm test` runs the storage and download tests a second time so, and this checks that
 * such a run really is one without them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

it('BERTH_NO_ADDONS=1 leaves every addon unloaded, so that downloads and uploads take their fallbacks', async () => {
  // A fresh process: each module loads its addon once, when first imported.
  const script = `
    const { zeroCopyAvailable, relayAvailable } = await import(${JSON.stringify(join(import.meta.dirname, '../../storage/drivers/socket-target.ts'))});
    const { directWritesAvailable } = await import(${JSON.stringify(join(import.meta.dirname, '../../storage/drivers/fs/direct-sink.ts'))});
    console.log(JSON.stringify({ zeroCopyAvailable, relayAvailable, directWritesAvailable }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, BERTH_NO_ADDONS: '1' },
  });
  assert.deepEqual(JSON.parse(stdout), { zeroCopyAvailable: false, relayAvailable: false, directWritesAvailable: false });
});
