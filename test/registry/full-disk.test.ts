/**
 * A real full disk: a small tmpfs (root only). Pushes until storage is full: every request is
 * answered (507 once full), nothing partial is left; after deleting and collecting garbage the
 * same pushes succeed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Digest } from '../../oci/digest.ts';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { collectGarbage } from '../../storage/gc/gc.ts';
import { Store } from '../../storage/store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { randomBlob, type TestBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const run = promisify(execFile);
const DISK = '6m';
const BLOB_BYTES = 1024 * 1024;

/** Mounts a tmpfs, or says why it cannot (not root, no mount privilege). */
async function mountSmallDisk(): Promise<{ dir: string } | { reason: string }> {
  if (process.getuid?.() !== 0) return { reason: 'a real full disk needs root to mount a small tmpfs' };
  const dir = await mkdtemp(join(tmpdir(), 'berth-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', dir]);
    return { dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { reason: `cannot mount a tmpfs here: ${(error as Error).message.split('\n')[0]}` };
  }
}

const disk = await mountSmallDisk();

describe('a full disk', { skip: 'reason' in disk ? disk.reason : false, timeout: 60_000 }, () => {
  const dir = 'dir' in disk ? disk.dir : '';
  let berth: RunningBerth;
  let api: RegistryAPI;

  before(async () => {
    berth = await startBerth({ root: dir });
    api = new RegistryAPI(berth.url);
  });
  after(async () => {
    await berth?.stop();
    await run('umount', [dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const push = (blob: TestBlob) =>
    api.request('POST', `/v2/full/r/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes, headers: { 'Content-Type': 'application/octet-stream' } });

  it('answers every push, 507 once full, leaves nothing partial, and takes pushes again after a delete and gc', async () => {
    const stored: TestBlob[] = [];
    let refused: TestBlob | undefined;
    for (let attempt = 0; attempt < 20 && !refused; attempt += 1) {
      const blob = randomBlob(BLOB_BYTES);
      const response = await push(blob);
      const body = await response.text();
      if (response.status === 201) stored.push(blob);
      else {
        assert.equal(response.status, 507, body);
        assert.match(body, /"code":"UNKNOWN".*no space left on device/);
        refused = blob;
      }
    }
    assert.ok(refused, `storage of ${DISK} never filled with ${stored.length} blobs of ${BLOB_BYTES} bytes`);
    assert.ok(stored.length > 0, 'some blobs fit before the disk filled');
    assert.equal((await api.request('HEAD', `/v2/full/r/blobs/${refused.digest}`)).status, 404, 'no partial blob under the refused digest');

    // A chunked upload into the full disk is answered too, and stays resumable.
    const start = await api.request('POST', '/v2/full/r/blobs/uploads/');
    const location = start.headers.get('location');
    if (start.status === 202) {
      const patch = await api.request('PATCH', location, { body: refused.bytes, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(patch.status, 507, await patch.text());
      assert.equal((await api.request('DELETE', location)).status, 204, 'the cut-off upload can be cancelled');
    } else assert.equal(start.status, 507, await start.text());

    for (const blob of stored) assert.equal((await api.request('DELETE', `/v2/full/r/blobs/${blob.digest}`)).status, 202);
    const report = await collectGarbage(new Store(new FsDriver(dir)), { gracePeriodMs: 0, uploadMaxAgeMs: 0, settleMs: 0 });
    assert.ok(report.blobs.length >= stored.length, `gc removed ${report.blobs.length} of the ${stored.length} deleted blobs`);

    assert.equal((await push(refused)).status, 201, 'the refused push succeeds once there is room');
    const back = Buffer.from(await (await api.request('GET', `/v2/full/r/blobs/${refused.digest}`)).arrayBuffer());
    assert.ok(Digest.of(back).equals(refused.digest), 'the blob pushed after the disk was full hashes to its digest');
    assert.deepEqual(await readdir(join(dir, 'docker/registry/v2/repositories/full/r/_uploads')).catch(() => []), [], 'no upload left behind');
  });
});
