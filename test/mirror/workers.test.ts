/**
 * Issue 23: one upstream fetch per blob however many workers of `berth serve` ask for it at once
 * (they take turns on a lock per digest and find it stored), with the mirror configured from the
 * config file as a user would write it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { newStorage, type TestStorage } from '../helpers/backend.ts';
import { needs } from '../helpers/peers.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { blobGetsByDigest, digests, MIRROR_ENV, mirrorYaml, pushImage, startUpstreams, type Upstreams } from './mirror-rig.ts';

describe('the mirror under berth serve with 3 workers', needs('docker-registry'), () => {
  let upstreams: Upstreams;
  let storage: TestStorage;
  let berth: BerthProcess;

  before(async () => {
    upstreams = await startUpstreams();
    storage = await newStorage();
    berth = await startBerthProcess(['--config', await storage.configFile(mirrorYaml(upstreams)), '--workers', '3'], { ...storage.env, ...MIRROR_ENV });
  });

  after(async () => {
    await berth?.stop();
    await storage?.remove();
    await upstreams?.stop();
  });

  it('has 10 concurrent cold pulls, spread over the workers, fetch each blob from the upstream once', async () => {
    const image = await pushImage(upstreams.hubClient, 'library/shared', '1', [3_000_000, 1_000_000]);
    upstreams.hubProxy.reset();
    await Promise.all(Array.from({ length: 10 }, () => pullCompletely(berth.url, 'docker.io/library/shared', '1')));
    const fetched = blobGetsByDigest(upstreams.hubProxy);
    assert.deepEqual(
      digests(image).map((digest) => fetched.get(`${digest}`)),
      digests(image).map(() => 1),
    );
    assert.equal(upstreams.hubProxy.blobBytes(), image.blobBytes);
  });
});
