/** Interop with a real client: Debian's skopeo pushes to and pulls from Berth. */
import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';

let berth: RunningBerth;
let layout: string;
const scratch: string[] = [];
const peers = needs('skopeo', 'umoci');

before(async () => {
  if (peers.skip) return;
  berth = await startBerth();
  layout = await buildImage('v1', [300_000, 50_000, 1000]);
  scratch.push(dirname(layout));
});
after(async () => {
  await berth?.stop();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function blobSet(dir: string): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  for (const hex of await readdir(join(dir, 'blobs/sha256'))) blobs.set(hex, await readFile(join(dir, 'blobs/sha256', hex)));
  return blobs;
}

describe('skopeo round trip', peers, () => {
  it('pushes an OCI image and pulls back identical bytes', async () => {
    await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/interop/oci:v1`);
    const back = await mkdtemp(join(tmpdir(), 'oci-back-'));
    scratch.push(back);
    await skopeoCopy(`docker://${berth.host}/interop/oci:v1`, `oci:${back}:v1`);
    const original = await blobSet(layout);
    const pulled = await blobSet(back);
    assert.equal(pulled.size, 5, 'manifest, config and three layers');
    for (const [hex, bytes] of pulled) assert.deepEqual(bytes, original.get(hex), `blob ${hex} differs`);
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/interop/oci:v1`]);
    assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 3);
  });

  it('pushes and pulls the Docker v2 schema 2 format', async () => {
    await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/interop/docker:v1`, ['--format', 'v2s2']);
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${berth.host}/interop/docker:v1`]);
    assert.equal((JSON.parse(stdout) as { mediaType: string }).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const back = await mkdtemp(join(tmpdir(), 'docker-back-'));
    scratch.push(back);
    await skopeoCopy(`docker://${berth.host}/interop/docker:v1`, `dir:${back}`);
    const files = await readdir(back);
    assert.ok(files.includes('manifest.json'), files.join(', '));
    assert.equal(files.length, 1 + 1 + 3 + 1, 'manifest, config, three layers and version');
  });

  it('copies between repositories of Berth and lists the tags', async () => {
    await skopeoCopy(`docker://${berth.host}/interop/oci:v1`, `docker://${berth.host}/interop/copy:v2`);
    const { stdout } = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${berth.host}/interop/copy`]);
    assert.deepEqual((JSON.parse(stdout) as { Tags: string[] }).Tags, ['v2']);
  });
});
