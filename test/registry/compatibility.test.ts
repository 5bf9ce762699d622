/**
 * Storage compatibility with Distribution 2.8.2 (design.md §2): each serves a root the other
 * wrote, with the same content by digest.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { startReferenceRegistry } from '../../peers/reference-registry.ts';

let layout: string;
const temp: string[] = [];
/** Both directions: umoci builds the image, skopeo moves it, Distribution is the other side. */
const peers = needs('docker-registry', 'skopeo', 'umoci');

before(async () => {
  if (peers.skip) return;
  layout = await buildImage('v1', [100_000, 2000]);
  temp.push(dirname(layout));
});
after(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
});

async function rootDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shared-root-'));
  temp.push(dir);
  return dir;
}

async function inspectDigest(host: string, ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/${ref}`]);
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}

async function pullInto(host: string, ref: string): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'pulled-'));
  temp.push(out);
  await skopeoCopy(`docker://${host}/${ref}`, `oci:${out}:x`);
}

describe('a root written by Distribution, served by Berth', peers, () => {
  it('serves the image, its tags and the catalog', async () => {
    const root = await rootDir();
    const reference = await startReferenceRegistry({ root });
    await skopeoCopy(`oci:${layout}:v1`, `docker://${reference.host}/from/distribution:v1`);
    const expected = await inspectDigest(reference.host, 'from/distribution:v1');
    await reference.stop();

    const berth = await startBerth({ root });
    try {
      assert.equal(await inspectDigest(berth.host, 'from/distribution:v1'), expected);
      await pullInto(berth.host, 'from/distribution:v1');
      const catalog = (await (await fetch(`${berth.url}/v2/_catalog`)).json()) as { repositories: string[] };
      assert.deepEqual(catalog.repositories, ['from/distribution']);
    } finally {
      await berth.stop();
    }
  });
});

describe('a root written by Berth, served by Distribution', peers, () => {
  it('serves the image, its tags and the catalog', async () => {
    const root = await rootDir();
    const berth = await startBerth({ root });
    await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/from/berth:v1`);
    const expected = await inspectDigest(berth.host, 'from/berth:v1');
    await berth.stop();

    const reference = await startReferenceRegistry({ root });
    try {
      assert.equal(await inspectDigest(reference.host, 'from/berth:v1'), expected);
      await pullInto(reference.host, 'from/berth:v1');
      const tags = (await (await fetch(`${reference.url}/v2/from/berth/tags/list`)).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['v1']);
      const catalog = (await (await fetch(`${reference.url}/v2/_catalog`)).json()) as { repositories: string[] };
      assert.deepEqual(catalog.repositories, ['from/berth']);
    } finally {
      await reference.stop();
    }
  });
});
