/** `/livez` and `/readyz` (README "Operations"): probes for Kubernetes and the compose balancer. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsDriver } from '../../storage/drivers/fs/fs-driver.ts';
import { Readiness } from '../../registry/health/readiness.ts';
import { startBerth } from '../helpers/berth.ts';

async function get(url: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/** A directory driver whose check fails while `down` is set: storage that went away. */
class FlakyDriver extends FsDriver {
  down = false;
  override async check(): Promise<void> {
    if (this.down) throw new Error('disk gone');
    return super.check();
  }
}

describe('health endpoints', () => {
  it('answers /livez, /readyz and the old /healthz with 200 while storage answers', async () => {
    const berth = await startBerth();
    try {
      for (const path of ['/livez', '/readyz', '/healthz']) assert.deepEqual(await get(berth.url + path), { status: 200, body: { status: 'ok' } }, path);
    } finally {
      await berth.stop();
    }
  });

  it('reports not ready, with the reason, when storage fails its check, and ready again once it answers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-health-'));
    const driver = new FlakyDriver(root);
    const berth = await startBerth({ driver });
    try {
      driver.down = true;
      // A check is cached for about a second.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const down = await get(`${berth.url}/readyz`);
      assert.equal(down.status, 503);
      assert.match(down.body.reason ?? '', /storage unavailable: disk gone/);
      assert.equal((await get(`${berth.url}/livez`)).status, 200, 'alive all the same');
      driver.down = false;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await get(`${berth.url}/readyz`)).status, 200);
    } finally {
      await berth.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('reports not ready once draining for a shutdown, without asking storage', async () => {
    let checks = 0;
    const readiness = new Readiness(async () => void checks++);
    assert.deepEqual(await readiness.state(), { ready: true });
    readiness.drain();
    assert.deepEqual(await readiness.state(), { ready: false, reason: 'shutting down' });
    assert.equal(checks, 1);
  });

  it('shares one storage check among the probes of a second', async () => {
    let checks = 0;
    const readiness = new Readiness(async () => void checks++);
    await Promise.all([readiness.state(), readiness.state(), readiness.state()]);
    await readiness.state();
    assert.equal(checks, 1);
  });
});
