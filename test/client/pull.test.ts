import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LayoutStore } from '../../client/layout-store.ts';
import { parsePlatform } from '../../client/platform.ts';
import { pull } from '../../client/pull.ts';
import { push } from '../../client/push.ts';
import { Digest, DigestMismatchError } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { Reference } from '../../oci/reference.ts';
import { clientFor, REGISTRIES, tempStore } from '../helpers/client-fixtures.ts';
import { blobOf } from '../helpers/content.ts';
import { startCountingProxy, type CountingProxy } from '../../peers/counting-proxy.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { pullCompletely } from '../helpers/pull-check.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');

interface LayoutIndex {
  manifests: { digest: string; size: number; annotations?: Record<string, string> }[];
}

async function readJSON<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The manifest a layout names `tag`, read back as JSON. */
async function layoutManifest(dir: string, tag: string): Promise<{ config: { digest: string; size: number }; layers: { digest: string; size: number }[] }> {
  const index = await readJSON<LayoutIndex>(join(dir, 'index.json'));
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `${tag} in ${dir}`);
  return readJSON(join(dir, 'blobs', 'sha256', entry.digest.slice('sha256:'.length)));
}

for (const registry of REGISTRIES) {
  describe(`berth pull against ${registry.name}`, needs('skopeo', 'umoci', ...registry.peers), () => {
    let server: Awaited<ReturnType<typeof registry.start>>;
    let proxy: CountingProxy;
    let layout: string;
    const platform = parsePlatform(undefined);

    before(async () => {
      server = await registry.start();
      proxy = await startCountingProxy(server.url);
      layout = await buildImage('v1', [400_000, 300_000, 1_500_000]);
      await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/app:v1`);
      // v2 shares every layer of v1 and adds one.
      await run('umoci', ['tag', '--image', `${layout}:v1`, 'v2']);
      const extra = await mkdtemp(join(tmpdir(), 'extra-layer-'));
      await writeFile(join(extra, 'extra.bin'), randomBytes(200_000));
      await run('umoci', ['insert', '--image', `${layout}:v2`, extra, '/extra']);
      await rm(extra, { recursive: true, force: true });
      await skopeoCopy(`oci:${layout}:v2`, `docker://${server.host}/app:v2`);
    });

    after(async () => {
      await proxy?.stop();
      await server?.stop();
      if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
    });

    test('pulls every blob once, then a re-pull of an image sharing all but one layer fetches only what changed', async () => {
      const { store, remove } = await tempStore();
      try {
        const client = clientFor(proxy.host);
        proxy.reset();
        const first = await pull(client, Reference.parse(`${proxy.host}/app:v1`), { store, platform });
        const v1 = await layoutManifest(layout, 'v1');
        const v1Bytes = v1.config.size + v1.layers.reduce((sum, l) => sum + l.size, 0);
        assert.equal(first.fetched.blobs, 4);
        assert.equal(first.fetched.bytes, v1Bytes);
        assert.equal(proxy.blobBytes(), v1Bytes);
        for (const blob of [v1.config, ...v1.layers]) assert.ok(await store.has(Digest.parse(blob.digest), blob.size), `the store holds ${blob.digest}`);

        proxy.reset();
        const second = await pull(client, Reference.parse(`${proxy.host}/app:v2`), { store, platform });
        const v2 = await layoutManifest(layout, 'v2');
        const added = v2.layers.at(-1)!;
        assert.deepEqual(
          proxy
            .blobGets()
            .map((r) => r.path.split('/').at(-1))
            .sort(),
          [added.digest, v2.config.digest].sort(),
          'only the new layer and the new config cross the wire',
        );
        assert.equal(proxy.blobBytes(), added.size + v2.config.size);
        assert.deepEqual(second.fetched, { blobs: 2, bytes: added.size + v2.config.size });
        assert.deepEqual(second.present, { blobs: 3, bytes: v1Bytes - v1.config.size });

        const index = await readJSON<LayoutIndex>(join(store.dir, 'index.json'));
        assert.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort(), [
          `${proxy.host}/app:v1`,
          `${proxy.host}/app:v2`,
        ]);
        // skopeo reads the store Berth wrote.
        const out = await mkdtemp(join(tmpdir(), 'skopeo-out-'));
        await skopeoCopy(`oci:${store.dir}:${proxy.host}/app:v2`, `oci:${out}:copied`);
        assert.equal((await layoutManifest(out, 'copied')).layers.length, v2.layers.length);
        await rm(out, { recursive: true, force: true });
      } finally {
        await remove();
      }
    });

    test('a re-pull of an image the store holds asks for its manifest only and writes nothing (issue 26: it should cost a manifest request)', async () => {
      const { store, remove } = await tempStore();
      try {
        const client = clientFor(proxy.host);
        const reference = Reference.parse(`${proxy.host}/app:v1`);
        await pull(client, reference, { store, platform });
        const written = async () => Promise.all(['index.json', '.berth/sources.json'].map(async (file) => (await stat(join(store.dir, file))).mtimeMs));
        const before = await written();
        proxy.reset();
        const again = await pull(client, reference, { store, platform });
        assert.deepEqual(again.fetched, { blobs: 0, bytes: 0 });
        assert.deepEqual(
          proxy.requests.map((r) => `${r.method} ${r.path}`),
          [`GET /v2/app/manifests/v1`],
        );
        assert.deepEqual(await written(), before, 'index.json and sources.json are not written again');
        assert.deepEqual(await readdir(join(store.dir, '.berth', 'incoming')), []);
      } finally {
        await remove();
      }
    });

    test('Docker schema2 images pull byte for byte (same digests) and push back', async () => {
      const { store, remove } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `docker://${server.host}/dockerfmt:v1`, ['--format', 'v2s2']);
        const result = await pull(clientFor(server.host), Reference.parse(`${server.host}/dockerfmt:v1`), { store, platform });
        assert.equal(result.mediaType, MediaType.dockerManifest);
        assert.equal((await store.resolve(result.name))?.mediaType, MediaType.dockerManifest);
        // (skopeo's oci: transport skips index.json entries of Docker media types, so it cannot read these back.)
        const pushed = await push(clientFor(server.host), Reference.parse(`${server.host}/dockerfmt-again:v1`), { store, from: result.name });
        assert.equal(pushed.digest, result.digest);
        assert.equal(await pullCompletely(server.url, 'dockerfmt-again', 'v1'), 5, 'manifest, config, three layers');
      } finally {
        await remove();
      }
    });

    test('lists the referrers of a manifest (the API, or the tag schema where there is none)', async () => {
      const client = clientFor(server.host);
      const subject = await client.getManifest('app', 'v1');
      const config = blobOf('{}');
      const signature = blobOf(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          artifactType: 'application/vnd.example.signature',
          config: { mediaType: MediaType.ociEmpty, digest: `${config.digest}`, size: config.bytes.length },
          layers: [],
          subject: { mediaType: subject.mediaType, digest: `${subject.digest}`, size: subject.bytes.length },
        }),
      );
      await client.uploadSmall('app', config.digest, config.bytes);
      await client.putManifest('app', signature.digest.toString(), signature.bytes, MediaType.ociManifest);
      if (registry.name !== 'Berth') {
        const fallback = blobOf(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.ociIndex,
            manifests: [
              {
                mediaType: MediaType.ociManifest,
                digest: `${signature.digest}`,
                size: signature.bytes.length,
                artifactType: 'application/vnd.example.signature',
              },
            ],
          }),
        );
        await client.putManifest('app', `sha256-${subject.digest.hex}`, fallback.bytes, MediaType.ociIndex);
      }
      const referrers = await client.referrers('app', subject.digest);
      assert.deepEqual(
        referrers.map((r) => [r.digest.toString(), r.artifactType]),
        [[signature.digest.toString(), 'application/vnd.example.signature']],
      );
      assert.deepEqual(await client.referrers('app', subject.digest, 'application/other'), []);
    });

    test('pulls sharing layers into one store from two processes at once fetch each blob once and keep both names', async () => {
      const { store, remove } = await tempStore();
      try {
        const other = await LayoutStore.open(store.dir);
        const client = clientFor(proxy.host);
        proxy.reset();
        const [v1, v2] = await Promise.all([
          pull(client, Reference.parse(`${proxy.host}/app:v1`), { store, platform }),
          pull(client, Reference.parse(`${proxy.host}/app:v2`), { store: other, platform }),
        ]);
        const paths = proxy.blobGets().map((r) => r.path);
        assert.equal(new Set(paths).size, paths.length, 'no blob fetched twice');
        assert.equal(v1.fetched.blobs + v1.present.blobs, 4);
        assert.equal(v2.fetched.blobs + v2.present.blobs, 5);
        const index = await readJSON<LayoutIndex>(join(store.dir, 'index.json'));
        assert.equal(index.manifests.length, 2);
      } finally {
        await remove();
      }
    });

    test('a download cut mid-stream resumes with Range from where it stopped', async () => {
      const { store, remove } = await tempStore();
      try {
        const v1 = await layoutManifest(layout, 'v1');
        proxy.reset();
        proxy.cutNextBlobAfter(100_000);
        await pull(clientFor(proxy.host), Reference.parse(`${proxy.host}/app:v1`), { store, platform, concurrency: 1 });
        const cut = proxy.blobGets().find((r) => r.bytes === 100_000 && !r.range)!;
        const resumed = proxy.blobGets().filter((r) => r.range);
        assert.equal(resumed.length, 1);
        assert.equal(resumed[0]!.path, cut.path);
        const size = v1.layers.find((l) => cut.path.endsWith(l.digest))!.size;
        assert.match(resumed[0]!.range!, /^bytes=\d+-$/);
        assert.equal(resumed[0]!.status, 206);
        const total = v1.config.size + v1.layers.reduce((sum, l) => sum + l.size, 0);
        const offset = Number(/bytes=(\d+)-/.exec(resumed[0]!.range!)![1]);
        assert.ok(offset > 0 && offset <= cut.bytes, `resumed at ${offset} after ${cut.bytes} bytes arrived`);
        assert.equal(resumed[0]!.bytes, size - offset, 'the rest of the blob, not all of it');
        assert.equal(proxy.blobBytes(), total + (cut.bytes - offset), 'only bytes lost in flight are fetched twice');
        for (const layer of v1.layers) assert.ok(await store.has(Digest.parse(layer.digest), layer.size), `the store holds ${layer.digest}`);
      } finally {
        await remove();
      }
    });

    test('a berth pull killed mid-download resumes from its partial file on the next run', async () => {
      const { store, remove } = await tempStore();
      try {
        proxy.reset();
        proxy.stallNextBlobAfter(150_000);
        const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'pull', `${proxy.host}/app:v1`, '--store', store.dir, '--json', '--concurrency', '1'], {
          stdio: 'ignore',
        });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const incoming = join(store.dir, '.berth', 'incoming');
        let partial: string | undefined;
        try {
          for (let waited = 0; !partial && waited < 30_000; waited += 50) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            // Files come and go while the pull runs (finished blobs are renamed away): absent is not an error.
            for (const name of await readdir(incoming).catch(() => [])) {
              const size = (await stat(join(incoming, name)).catch(() => undefined))?.size;
              if (!name.endsWith('.claim') && size === 150_000) partial = name;
            }
          }
        } finally {
          child.kill('SIGKILL');
          await exited;
        }
        assert.ok(partial, 'the first run wrote 150000 bytes of a blob');
        const digest = `sha256:${partial.slice('sha256-'.length)}`;
        proxy.reset();
        await pull(clientFor(proxy.host), Reference.parse(`${proxy.host}/app:v1`), { store, platform });
        const gets = proxy.blobGets().filter((r) => r.path.endsWith(digest));
        assert.equal(gets.length, 1);
        assert.equal(gets[0]!.range, 'bytes=150000-');
        const v1 = await layoutManifest(layout, 'v1');
        assert.equal(gets[0]!.bytes, [v1.config, ...v1.layers].find((b) => b.digest === digest)!.size - 150_000);
        assert.ok(await store.has(Digest.parse(digest)), `the store holds ${digest}`);
      } finally {
        await remove();
      }
    });

    test('a server that ignores Range sends the blob again from the start', async () => {
      const { store, remove } = await tempStore();
      try {
        proxy.reset();
        proxy.ignoreRange = true;
        proxy.cutNextBlobAfter(50_000);
        await pull(clientFor(proxy.host), Reference.parse(`${proxy.host}/app:v1`), { store, platform, concurrency: 1 });
        const v1 = await layoutManifest(layout, 'v1');
        const total = v1.config.size + v1.layers.reduce((sum, l) => sum + l.size, 0);
        assert.equal(proxy.blobBytes(), total + 50_000);
      } finally {
        proxy.ignoreRange = false;
        await remove();
      }
    });

    test('a digest mismatch is an error and leaves nothing in the store', async () => {
      const { store, remove } = await tempStore();
      try {
        proxy.corruptNextBlob();
        await assert.rejects(pull(clientFor(proxy.host), Reference.parse(`${proxy.host}/app:v1`), { store, platform, concurrency: 1 }), DigestMismatchError);
        assert.deepEqual(await readdir(join(store.dir, 'blobs', 'sha256')), []);
        assert.deepEqual(await readdir(join(store.dir, '.berth', 'incoming')), []);
        assert.deepEqual((await readJSON<LayoutIndex>(join(store.dir, 'index.json'))).manifests, []);
      } finally {
        await remove();
      }
    });
  });
}
