/** `/metrics` (README "Operations"): checked by Prometheus' own promtool, summed across workers, guarded by auth. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { announcedUrl, startBerth, startBerthProcess } from '../helpers/berth.ts';
import { basic, startAuthBerth, USERS } from '../helpers/auth-berth.ts';
import { needs } from '../helpers/peers.ts';
import { loadServeConfig } from '../../registry/config/serve-config.ts';
import { Readable } from 'node:stream';
import { register } from '../../registry/metrics/metrics.ts';
import { localCopyMeter } from '../../registry/metrics/storage-meter.ts';
import { measureLocalCopies } from '../../storage/measured-local-copies.ts';
import { noLocalCopies } from '../../storage/local-copies.ts';
import { Digest } from '../../oci/digest.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

/** Runs `promtool check metrics` on a scrape; resolves with its complaints (none when clean). */
function promtoolCheck(scrape: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => resolve(error ? `${stdout}${stderr}` || error.message : ''));
    child.stdin!.end(scrape);
  });
}

/** The sum of a metric's samples whose labels match `where`. */
function sum(scrape: string, name: string, where: (labels: string) => boolean = () => true): number {
  let total = 0;
  for (const line of scrape.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] === name && where(match[2] ?? '')) total += Number(match[3]);
  }
  return total;
}

describe('metrics', () => {
  it('passes promtool check metrics after a skopeo push and pull, and counts them', needs('promtool', 'skopeo', 'umoci'), async () => {
    const berth = await startBerth();
    const layout = await buildImage('v1', [200_000, 1000]);
    const back = await mkdtemp(join(tmpdir(), 'metrics-back-'));
    try {
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/metrics/image:v1`);
      await skopeoCopy(`docker://${berth.host}/metrics/image:v1`, `oci:${back}:v1`);
      const response = await fetch(`${berth.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const scrape = await response.text();
      assert.equal(await promtoolCheck(scrape), '', 'promtool finds nothing to fix');
      assert.ok(sum(scrape, 'berth_http_requests_total', (labels) => labels.includes('endpoint="end-7"')) >= 1, 'a manifest PUT counted');
      assert.ok(sum(scrape, 'berth_http_request_received_bytes_total') > 200_000, 'the layer received counted');
      assert.ok(sum(scrape, 'berth_http_response_sent_bytes_total', (labels) => labels.includes('endpoint="end-2"')) > 200_000, 'the layer sent counted');
      assert.ok(sum(scrape, 'berth_storage_operation_duration_seconds_count', (labels) => labels.includes('driver="fs"')) > 0, 'storage calls timed');
      assert.equal(sum(scrape, 'berth_build_info'), 1);
      assert.doesNotMatch(scrape, /metrics\/image|sha256:/, 'no repository or digest as a label');
    } finally {
      await berth.stop();
      await rm(dirname(layout), { recursive: true, force: true });
      await rm(back, { recursive: true, force: true });
    }
  });

  it('sums the requests of two workers in one scrape, on the main listener and on --metrics-listen', needs('promtool'), async () => {
    const root = await mkdtemp(join(tmpdir(), 'metrics-workers-'));
    const berth = await startBerthProcess(['--storage', root, '--workers', '2', '--metrics-listen', '127.0.0.1:0']);
    const metricsUrl = announcedUrl(berth.process.output(), 'metrics on');
    try {
      const N = 60;
      // A new connection each: the kernel spreads them over both workers.
      for (let i = 0; i < N; i++) {
        const response = await fetch(`${berth.url}/v2/`, { headers: { Connection: 'close' } });
        await response.arrayBuffer();
      }
      const scrape = await (await fetch(`${metricsUrl}/metrics`)).text();
      assert.equal(await promtoolCheck(scrape), '', 'promtool finds nothing to fix');
      assert.equal(
        sum(scrape, 'berth_http_requests_total', (labels) => labels.includes('endpoint="end-1"')),
        N,
      );
      assert.equal(
        sum(scrape, 'berth_http_request_duration_seconds_count', (labels) => labels.includes('endpoint="end-1"')),
        N,
      );
      assert.equal(sum(scrape, 'berth_build_info'), 1, 'build info is not summed');
      // With a separate listener, the main one does not serve /metrics.
      assert.equal((await fetch(`${berth.url}/metrics`)).status, 404);
    } finally {
      await berth.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('answers the main listener of a two-worker server with the sum the primary gathers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'metrics-workers-'));
    const berth = await startBerthProcess(['--storage', root, '--workers', '2']);
    try {
      const N = 30;
      for (let i = 0; i < N; i++) await (await fetch(`${berth.url}/v2/`, { headers: { Connection: 'close' } })).arrayBuffer();
      const scrape = await (await fetch(`${berth.url}/metrics`, { headers: { Connection: 'close' } })).text();
      assert.equal(
        sum(scrape, 'berth_http_requests_total', (labels) => labels.includes('endpoint="end-1"')),
        N,
      );
    } finally {
      await berth.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('counts the retention and gc runs the primary of a two-worker server makes, once, in a scrape a worker answers', needs('promtool'), async () => {
    const root = await mkdtemp(join(tmpdir(), 'metrics-retention-'));
    const config = join(root, 'berth.yml');
    await writeFile(
      config,
      [
        `storage: ${join(root, 'data')}`,
        'gc:\n  gracePeriod: 0s\n  settle: 0s',
        'retention:\n  schedule: 1s',
        '  policies:\n    - repositories: ["ci/**"]\n      keepTags:\n        - patterns: ["^keep"]',
      ].join('\n'),
    );
    const berth = await startBerthProcess(['--config', config, '--workers', '2']);
    try {
      const api = new RegistryAPI(berth.url);
      const dropped = randomBlob(5000);
      for (const [tag, layer] of [
        ['keep-1', randomBlob(3000)],
        ['drop-1', dropped],
      ] as const) {
        const image = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
        for (const blob of [image, layer]) await api.pushBlob('ci/app', blob);
        assert.equal((await api.pushManifest('ci/app', tag, imageManifest(image, [layer]))).status, 201);
      }
      let scrape = '';
      for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 200))) {
        scrape = await (await fetch(`${berth.url}/metrics`, { headers: { Connection: 'close' } })).text();
        if (sum(scrape, 'berth_gc_freed_bytes_total') >= dropped.bytes.length) break;
      }
      assert.equal(await promtoolCheck(scrape), '', 'promtool finds nothing to fix');
      assert.ok(sum(scrape, 'berth_gc_freed_bytes_total') >= dropped.bytes.length, 'the dropped image’s layer freed by gc');
      assert.equal(sum(scrape, 'berth_retention_deleted_tags_total'), 1, 'drop-1, counted once (not once per worker)');
      assert.ok(sum(scrape, 'berth_retention_runs_total', (labels) => labels === 'result="completed"') >= 1, 'a completed run counted');
      assert.equal(
        sum(scrape, 'berth_retention_runs_total', (labels) => labels === 'result="failed"'),
        0,
      );
      assert.ok(sum(scrape, 'berth_gc_run_duration_seconds_count') >= 1, 'a gc run timed');
      assert.ok(sum(scrape, 'berth_retention_last_success_timestamp_seconds') > Date.now() / 1000 - 60, 'the last success is recent');
      assert.equal(scrape.match(/^# TYPE berth_retention_runs_total /gm)?.length, 1, 'one family, not one per process');
    } finally {
      await berth.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('serves /metrics only to callers with the catalog right when auth is on, and counts failed logins', async () => {
    const berth = await startAuthBerth('htpasswd');
    try {
      assert.equal((await fetch(`${berth.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${berth.url}/metrics`, { headers: { Authorization: basic('alice', 'wrong') } })).status, 401);
      const response = await fetch(`${berth.url}/metrics`, { headers: { Authorization: basic('alice', USERS.alice) } });
      assert.equal(response.status, 200);
      assert.ok(sum(await response.text(), 'berth_auth_failed_logins_total') >= 1, 'the wrong password counted');
    } finally {
      await berth.stop();
    }
  });
});

describe('metrics listen address', () => {
  it('comes from --metrics-listen over BERTH_METRICS_LISTEN over metrics.listen, and is checked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-config-'));
    try {
      const file = join(dir, 'config.yml');
      await writeFile(file, 'metrics:\n  listen: 127.0.0.1:9101\n');
      assert.deepEqual((await loadServeConfig({ config: file }, {})).metricsListen, { host: '127.0.0.1', port: 9101 });
      assert.deepEqual((await loadServeConfig({ config: file }, { BERTH_METRICS_LISTEN: ':9102' })).metricsListen, { host: '0.0.0.0', port: 9102 });
      assert.deepEqual((await loadServeConfig({ config: file, metricsListen: '[::1]:9103' }, {})).metricsListen, { host: '::1', port: 9103 });
      assert.equal((await loadServeConfig({}, {})).metricsListen, undefined, 'off by default: /metrics on the main listener');
      await assert.rejects(loadServeConfig({ metricsListen: 'nowhere' }, {}), /invalid metrics listen address "nowhere"/);
      await writeFile(file, 'metrics:\n  listen: 9104\n');
      await assert.rejects(loadServeConfig({ config: file }, {}), /metrics\.listen/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local copy metrics', () => {
  it('counts reads the local copies served (hits, with their bytes) and those storage served (misses)', async () => {
    const scrape = () => register.metrics();
    const before = await scrape();
    const copies = measureLocalCopies(
      { ...noLocalCopies, reader: async (_digest, _size, range) => (range.start === 0 ? Readable.from([Buffer.alloc(range.end)]) : undefined) },
      localCopyMeter,
    );
    const digest = Digest.parse(`sha256:${'a'.repeat(64)}`);
    assert.ok(await copies.reader(digest, 100, { start: 0, end: 100 }), 'a hit returns the copy');
    assert.equal(await copies.reader(digest, 100, { start: 10, end: 100 }), undefined);
    const after = await scrape();
    const delta = (name: string, where?: (labels: string) => boolean) => sum(after, name, where) - sum(before, name, where);
    assert.equal(
      delta('berth_local_copy_reads_total', (labels) => labels.includes('hit')),
      1,
    );
    assert.equal(
      delta('berth_local_copy_reads_total', (labels) => labels.includes('miss')),
      1,
    );
    assert.equal(delta('berth_local_copy_served_bytes_total'), 100);
  });
});
