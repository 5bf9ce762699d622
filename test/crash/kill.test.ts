/**
 * Crash safety: `berth serve` is killed (SIGKILL) at random moments while clients push
 * concurrently, then restarted on the same root. Everything acknowledged must be intact, every
 * stored blob must hash to its digest, and every cut-off upload must resume to the right digest
 * or be cleanly unknown (design.md "Writes are atomic").
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaType } from '../../oci/media-types.ts';
import { startBerthProcess } from '../helpers/berth.ts';
import { imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const ROUNDS = 8;
const PUSHERS = 6;

interface Acknowledged {
  blobs: Map<string, TestBlob>;
  manifests: { repository: string; tag: string; manifest: TestBlob }[];
  /** Chunked uploads cut off by the kill: where each stood when last acknowledged. */
  cutOff: { repository: string; location: string; blob: TestBlob; acknowledged: number; closing: boolean }[];
}

/** One client pushing images until its requests fail; records only what the registry acknowledged. */
async function pushUntilKilled(api: RegistryAPI, repository: string, acknowledged: Acknowledged): Promise<void> {
  for (let image = 0; ; image += 1) {
    const config = randomBlob(300);
    const layers = [randomBlob(512 * 1024 + Math.floor(Math.random() * 1024 * 1024)), randomBlob(2 * 1024 * 1024)];
    const monolithic = await api.request('POST', `/v2/${repository}/blobs/uploads/?digest=${layers[0]!.digest}`, {
      body: layers[0]!.bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (monolithic.status !== 201) return;
    acknowledged.blobs.set(`${layers[0]!.digest}`, layers[0]!);
    for (const blob of [layers[1]!, config]) if (!(await pushChunked(api, repository, blob, acknowledged))) return;
    const manifest = imageManifest(config, layers);
    const tag = `t${image}`;
    const put = await api.request('PUT', `/v2/${repository}/manifests/${tag}`, { body: manifest.bytes, headers: { 'Content-Type': MediaType.ociManifest } });
    if (put.status !== 201) return;
    acknowledged.manifests.push({ repository, tag, manifest });
  }
}

/** Pushes in 256 KiB chunks; false once the registry stops answering. */
async function pushChunked(api: RegistryAPI, repository: string, blob: TestBlob, acknowledged: Acknowledged): Promise<boolean> {
  const start = await api.request('POST', `/v2/${repository}/blobs/uploads/`);
  if (start.status !== 202) return false;
  let location = start.headers.get('location')!;
  const chunk = 256 * 1024;
  const record = { repository, location, blob, acknowledged: 0, closing: false };
  acknowledged.cutOff.push(record);
  for (let offset = 0; offset < blob.bytes.length; offset += chunk) {
    const end = Math.min(offset + chunk, blob.bytes.length);
    const patch = await api.request('PATCH', location, {
      body: blob.bytes.subarray(offset, end),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
    });
    if (patch.status !== 202) return false;
    location = patch.headers.get('location')!;
    Object.assign(record, { location, acknowledged: end });
  }
  record.closing = true;
  const put = await api.request('PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`);
  if (put.status !== 201) return false;
  acknowledged.cutOff.splice(acknowledged.cutOff.indexOf(record), 1);
  acknowledged.blobs.set(`${blob.digest}`, blob);
  return true;
}

/** Every `blobs/sha256/<2>/<hex>/data` under the root, re-hashed from disk. */
async function corruptBlobs(root: string): Promise<string[]> {
  const base = join(root, 'docker/registry/v2/blobs/sha256');
  const corrupt: string[] = [];
  for (const prefix of await readdir(base).catch((): string[] => [])) {
    for (const hex of await readdir(join(base, prefix))) {
      const hash = createHash('sha256');
      const data = join(base, prefix, hex, 'data');
      const present = await readdir(join(base, prefix, hex));
      if (!present.includes('data')) continue;
      for await (const bytes of createReadStream(data)) hash.update(bytes as Buffer);
      if (hash.digest('hex') !== hex) corrupt.push(hex);
    }
  }
  return corrupt;
}

describe('SIGKILL during concurrent pushes', { timeout: 240_000 }, () => {
  let root: string;
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`loses nothing acknowledged over ${ROUNDS} rounds`, async (t) => {
    root = await mkdtemp(join(tmpdir(), 'berth-crash-'));
    const acknowledged: Acknowledged = { blobs: new Map(), manifests: [], cutOff: [] };
    let resumed = 0;
    let unknown = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const berth = await startBerthProcess(['--storage', root, '--workers', '1']);
      const api = new RegistryAPI(berth.url);
      acknowledged.cutOff = [];
      const pushers = Array.from({ length: PUSHERS }, (_, index) => pushUntilKilled(api, `crash/r${round}p${index}`, acknowledged).catch(() => undefined));
      await sleep(300 + Math.random() * 1200);
      await berth.process.stop('SIGKILL');
      await Promise.all(pushers);

      const restarted = await startBerthProcess(['--storage', root, '--workers', '1']);
      try {
        const check = new RegistryAPI(restarted.url);
        for (const upload of acknowledged.cutOff) {
          const status = await check.request('GET', upload.location);
          if (status.status === 404) {
            unknown += 1;
            continue;
          }
          assert.equal(status.status, 204, `upload ${upload.location}`);
          // `0-0` is also what an empty upload reports; these chunks are never a single byte.
          const end = Number(status.headers.get('range')!.split('-')[1]);
          const stored = end === 0 ? 0 : end + 1;
          if (stored < upload.acknowledged) {
            // Only a commit cut off after it moved the bytes into the blob store leaves fewer: the blob is there.
            const head = await check.request('HEAD', `/v2/${upload.repository}/blobs/${upload.blob.digest}`);
            assert.ok(upload.closing && head.status === 200, `upload kept ${stored} of ${upload.acknowledged} acknowledged bytes (closing: ${upload.closing})`);
          }
          let next = upload.location;
          if (stored < upload.blob.bytes.length) {
            const rest = await check.request('PATCH', upload.location, {
              body: upload.blob.bytes.subarray(stored),
              headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stored}-${upload.blob.bytes.length - 1}` },
            });
            assert.equal(rest.status, 202, await rest.text());
            next = rest.headers.get('location')!;
          }
          const closed = await check.request('PUT', `${next}${next.includes('?') ? '&' : '?'}digest=${upload.blob.digest}`);
          assert.equal(closed.status, 201, `the resumed upload hashes to its digest: ${await closed.text()}`);
          resumed += 1;
        }
      } finally {
        await restarted.stop();
      }
    }

    const final = await startBerthProcess(['--storage', root, '--workers', '1']);
    try {
      const api = new RegistryAPI(final.url);
      for (const { repository, tag, manifest } of acknowledged.manifests) {
        const response = await api.request('GET', `/v2/${repository}/manifests/${tag}`, { headers: { Accept: MediaType.ociManifest } });
        assert.equal(response.status, 200, `${repository}:${tag}`);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), manifest.bytes, `${repository}:${tag}`);
      }
    } finally {
      await final.stop();
    }
    for (const blob of acknowledged.blobs.values()) {
      const hex = blob.digest.hex;
      const present = await readdir(join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex)).catch((): string[] => []);
      assert.ok(present.includes('data'), `acknowledged blob ${blob.digest} is stored`);
    }
    const corrupt = await corruptBlobs(root);
    assert.deepEqual(corrupt, [], 'every stored blob hashes to its digest');
    t.diagnostic(
      `${ROUNDS} rounds: ${acknowledged.blobs.size} acknowledged blobs and ${acknowledged.manifests.length} manifests intact, ` +
        `${resumed} cut-off uploads resumed, ${unknown} cleanly unknown, ${corrupt.length} corrupt`,
    );
    assert.ok(acknowledged.blobs.size > ROUNDS, `the pushers got acknowledgements (${acknowledged.blobs.size} blobs)`);
  });
});
