/**
 * A blob pushed in one request (distribution-spec, "Single POST" and "POST then PUT" monolithic
 * uploads) whose session record cannot be written: the push fails and leaves nothing behind, not
 * even the bytes a write still under way was storing when the failure came.
 */
import assert from 'node:assert/strict';
import { readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { paths } from '../../storage/paths.ts';
import { Store } from '../../storage/store.ts';
import { randomBlob } from '../helpers/content.ts';
import { FaultyDriver } from '../helpers/faulty-driver.ts';

describe('an upload in one request', () => {
  it('that fails to record its start removes its bytes once their write has ended', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-ingest-'));
    try {
      const driver = new FaultyDriver(new FsDriver(root));
      const store = new Store(driver);
      driver.inject('putContent', 'EIO', { pathIncludes: 'startedat' });
      const blob = randomBlob(4 << 20);
      // Bytes that keep coming after the session's record has failed.
      const slow = Readable.from(
        (async function* () {
          for (let at = 0; at < blob.bytes.length; at += 1 << 20) {
            await delay(50);
            yield blob.bytes.subarray(at, at + (1 << 20));
          }
        })(),
      );
      await assert.rejects(store.uploads.ingest('team/app', slow, blob.digest), /EIO/);
      // Past the time the source takes to end, should the push have answered before its write did.
      await delay(500);
      const left = await readdir(join(root, paths.uploadsRoot('team/app'))).catch(() => []);
      assert.deepEqual(left, [], 'no upload session left');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
