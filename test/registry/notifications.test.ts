/** Webhooks (README "Operations"): the events a receiver gets, their formats, filters and delivery. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../../peers/processes.ts';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { startBerthProcess, type BerthProcess } from '../helpers/berth.ts';
import { blobOf, imageManifest, randomBlob } from '../helpers/content.ts';
import { needs } from '../helpers/peers.ts';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { EndpointQueue } from '../../registry/notifications/endpoint-queue.ts';
import type { RegistryEvent } from '../../registry/notifications/event.ts';
import { notificationCount } from '../../registry/metrics/notification-counts.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { basic, USERS, writeUsers } from '../helpers/auth-berth.ts';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface EventBody {
  action: string;
  target: { mediaType?: string; digest?: string; size?: number; repository: string; tag?: string; fromRepository?: string; url?: string };
  request: { id: string; method: string };
  actor: { name?: string };
  source: { instanceID: string };
}

/** A webhook receiver on loopback; `hold` keeps responses back until `release` (a slow receiver). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private readonly held: ServerResponse[] = [];
  holding = false;
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.deliveries.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
      if (this.holding) this.held.push(res);
      else res.end();
    });
  });

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  /** Requests answered so far: the held ones are not. */
  get answered(): number {
    return this.deliveries.length - this.held.length;
  }

  release(): void {
    this.holding = false;
    for (const res of this.held.splice(0)) res.end();
  }

  /** Distribution envelopes' events, in the order received. */
  get events(): EventBody[] {
    return this.deliveries.flatMap((delivery) => (delivery.body.events as EventBody[] | undefined) ?? []);
  }

  async waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    for (const start = Date.now(); Date.now() - start < ms;) {
      if (check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(this.deliveries.map((delivery) => delivery.body))}`);
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** Berth as `berth serve` with these webhook endpoints. */
/** Berth with these webhook endpoints; with `users`, htpasswd auth for USERS where anyone may do anything. */
async function berthWith(endpoints: Record<string, unknown>[], users = false): Promise<BerthProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-notifications-'));
  scratch.push(dir);
  const config = join(dir, 'config.yml');
  const access = [{ repository: '**', users: ['*', 'anonymous'], actions: ['pull', 'push', 'delete'] }];
  const auth = users ? { auth: { mode: 'htpasswd', htpasswd: await writeUsers(dir), access } } : {};
  await writeFile(config, stringify({ log: { level: 'silent' }, notifications: { endpoints }, ...auth }));
  return startBerthProcess(['--storage', join(dir, 'data'), '--workers', '1', '--config', config]);
}

/** A one-layer image pushed with single POSTs and a PUT: a push without skopeo. */
async function pushSmallImage(api: RegistryAPI, name: string, tag: string) {
  const config = blobOf('{"architecture":"amd64","os":"linux"}');
  const layer = randomBlob(512);
  await api.pushBlob(name, config);
  await api.pushBlob(name, layer);
  const manifest = imageManifest(config, [layer]);
  const response = await api.pushManifest(name, tag, manifest);
  assert.equal(response.status, 201);
  return { config, layer, manifest };
}

const BLOB = 'application/octet-stream';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('webhooks', () => {
  it('sends push (each blob, then the manifest with its tag), pull, mount and delete events for skopeo and the API', needs('skopeo', 'umoci'), async () => {
    const receiver = new Receiver();
    const url = await receiver.listen();
    const berth = await berthWith([{ name: 'hook', url, headers: { Authorization: ['Bearer hook-secret'], 'X-Single': 'one' }, backoff: '100ms' }]);
    const layout = await buildImage('v1', [2048, 4096]);
    scratch.push(join(layout, '..'));
    try {
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/app:v1`);
      await receiver.waitFor(() => receiver.events.some((event) => event.target.tag === 'v1'), 'the manifest push');
      const pushes = receiver.events.filter((event) => event.action === 'push');
      const blobs = pushes.filter((event) => event.target.mediaType === BLOB);
      assert.equal(blobs.length, 3, 'two layers and the config');
      for (const blob of blobs) {
        assert.match(blob.target.digest ?? '', /^sha256:[0-9a-f]{64}$/);
        // skopeo sends each blob in a PATCH, then a closing PUT without a body: the size comes from what was stored.
        const stored = await stat(join(layout, 'blobs', ...blob.target.digest!.split(':')));
        assert.equal(blob.target.size, stored.size, `${blob.target.digest} says its size`);
      }
      const manifest = pushes.at(-1)!;
      assert.deepEqual(
        { ...manifest.target, digest: undefined, url: undefined },
        {
          mediaType: OCI_MANIFEST,
          size: manifest.target.size,
          length: manifest.target.size,
          digest: undefined,
          repository: 'team/app',
          tag: 'v1',
          url: undefined,
        },
      );
      assert.ok(manifest.target.size! > 0, 'the manifest push says its size');
      assert.equal(manifest.target.url, `${berth.url}/v2/team/app/manifests/${manifest.target.digest}`);
      assert.equal(manifest.request.method, 'PUT');
      assert.equal(pushes.indexOf(manifest), pushes.length - 1, 'the manifest after its blobs');
      const delivery = receiver.deliveries[0]!;
      assert.equal(delivery.headers['content-type'], 'application/vnd.docker.distribution.events.v2+json');
      assert.equal(delivery.headers.authorization, 'Bearer hook-secret');
      assert.equal(delivery.headers['x-single'], 'one');

      const pulled = await mkdtemp(join(tmpdir(), 'berth-notifications-pull-'));
      scratch.push(pulled);
      const seen = receiver.events.length;
      await skopeoCopy(`docker://${berth.host}/team/app:v1`, `oci:${join(pulled, 'layout')}:v1`);
      await receiver.waitFor(() => receiver.events.slice(seen).filter((event) => event.action === 'pull').length >= 4, 'the pull');
      const pulls = receiver.events.slice(seen).filter((event) => event.action === 'pull');
      assert.ok(
        pulls.some((event) => event.target.mediaType === OCI_MANIFEST && event.target.digest === manifest.target.digest),
        'a pull of the manifest pushed',
      );
      assert.deepEqual(
        new Set(pulls.filter((event) => event.target.mediaType === BLOB).map((event) => event.target.digest)),
        new Set(blobs.map((b) => b.target.digest)),
      );
      for (const pull of pulls) assert.equal(pull.request.method, 'GET', 'HEAD is no pull');

      const api = new RegistryAPI(berth.url);
      const layer = blobs[0]!.target.digest!;
      const mount = await api.request('POST', `/v2/team/other/blobs/uploads/?mount=${layer}&from=team/app`);
      assert.equal(mount.status, 201);
      assert.equal((await api.request('DELETE', '/v2/team/app/manifests/v1')).status, 202);
      assert.equal((await api.request('DELETE', `/v2/team/app/manifests/${manifest.target.digest}`)).status, 202);
      assert.equal((await api.request('DELETE', `/v2/team/other/blobs/${layer}`)).status, 202);
      await receiver.waitFor(() => receiver.events.filter((event) => event.action === 'delete').length === 3, 'the deletes');
      const tail = receiver.events.filter((event) => event.action === 'mount' || event.action === 'delete').map(({ action, target }) => ({ action, target }));
      assert.deepEqual(tail, [
        {
          action: 'mount',
          target: { mediaType: BLOB, digest: layer, fromRepository: 'team/app', repository: 'team/other', url: `${berth.url}/v2/team/other/blobs/${layer}` },
        },
        { action: 'delete', target: { tag: 'v1', repository: 'team/app' } },
        {
          action: 'delete',
          target: { digest: manifest.target.digest, repository: 'team/app', url: `${berth.url}/v2/team/app/manifests/${manifest.target.digest}` },
        },
        { action: 'delete', target: { digest: layer, repository: 'team/other', url: `${berth.url}/v2/team/other/blobs/${layer}` } },
      ]);
    } finally {
      await berth.stop();
      await receiver.close();
    }
  });

  it('delivers the events of a push made while the receiver was down once it is back, within the retry window', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/events`;
    const berth = await berthWith([{ name: 'late', url, backoff: '100ms', threshold: 8, timeout: '1s' }]);
    const receiver = new Receiver();
    try {
      const { manifest } = await pushSmallImage(new RegistryAPI(berth.url), 'team/app', 'v1');
      // The first attempts are refused; the retries (100 ms, doubling) find it listening.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await receiver.listen(port);
      await receiver.waitFor(() => receiver.events.length === 3, 'the three push events');
      assert.deepEqual(
        receiver.events.map((event) => [event.action, event.target.digest]),
        [
          ['push', receiver.events[0]!.target.digest],
          ['push', receiver.events[1]!.target.digest],
          ['push', `${manifest.digest}`],
        ],
      );
      const metrics = await (await fetch(`${berth.url}/metrics`)).text();
      assert.match(metrics, /berth_notification_events_sent_total\{endpoint="late"\} 3/);
      assert.match(metrics, /berth_notification_events_dropped_total\{endpoint="late"\} 0/);
    } finally {
      await berth.stop();
      await receiver.close();
    }
  });

  it('gives the events still queued up to 5 s to go out on a clean stop, and stops after that though a receiver never answers', async () => {
    const receiver = new Receiver();
    const url = await receiver.listen();
    receiver.holding = true;
    const berth = await berthWith([{ name: 'slow', url, timeout: '60s' }]);
    const silent = new Receiver();
    const never = await berthWith([{ name: 'silent', url: await silent.listen(), timeout: '60s' }]);
    silent.holding = true;
    try {
      await pushSmallImage(new RegistryAPI(berth.url), 'team/app', 'v1');
      await receiver.waitFor(() => receiver.deliveries.length === 1, 'the first POST, held');
      const stopped = berth.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      receiver.release();
      await stopped;
      assert.equal(berth.process.child.exitCode, 0);
      assert.equal(receiver.events.length, 3, 'the two events queued behind the held POST went out during the stop');

      await pushSmallImage(new RegistryAPI(never.url), 'team/app', 'v1');
      await silent.waitFor(() => silent.deliveries.length === 1, 'the first POST, never answered');
      await never.stop();
      assert.equal(never.process.child.exitCode, 0, 'stopped after the grace, not after the 60 s timeout');
    } finally {
      await berth.stop();
      await never.stop();
      await receiver.close();
      await silent.close();
    }
  });

  it('a slow receiver delays no push: the push completes while the receiver still holds its first request', needs('skopeo', 'umoci'), async (t) => {
    const receiver = new Receiver();
    receiver.holding = true;
    const url = await receiver.listen();
    const berth = await berthWith([{ name: 'slow', url, timeout: '30s' }]);
    const layout = await buildImage('v1', [2048]);
    scratch.push(join(layout, '..'));
    try {
      let start = performance.now();
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/slow:v1`);
      const slowMs = performance.now() - start;
      // The first POST may still be on its way under load: what matters is that none was answered.
      await receiver.waitFor(() => receiver.deliveries.length >= 1, 'the first event');
      assert.equal(receiver.answered, 0, 'and has not answered it yet');
      // The rest waited in the queue; once the receiver answers, they follow.
      setTimeout(() => receiver.release(), 2000).unref();
      await receiver.waitFor(() => receiver.events.some((event) => event.target.tag === 'v1'), 'the queued events');
      start = performance.now();
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/fast:v1`);
      t.diagnostic(`push ${Math.round(slowMs)} ms while the receiver held its request, ${Math.round(performance.now() - start)} ms with it answering`);
    } finally {
      await berth.stop();
      await receiver.close();
    }
  });

  it('sends delete events for the deletes of the web interface too (a tag, then a manifest), naming who deleted', async () => {
    const receiver = new Receiver();
    const url = await receiver.listen();
    const berth = await berthWith([{ name: 'ui', url, backoff: '100ms', ignore: { actions: ['push'] } }], true);
    try {
      const { manifest } = await pushSmallImage(new RegistryAPI(berth.url), 'team/app', 'v1');
      const headers = { 'X-Berth-UI': '1', Authorization: basic('alice', USERS.alice) };
      assert.equal((await fetch(`${berth.url}/api/v1/tag?name=team/app&tag=v1`, { method: 'DELETE', headers })).status, 200);
      const digest = `${manifest.digest}`;
      assert.equal((await fetch(`${berth.url}/api/v1/manifest?name=team/app&digest=${digest}&tags=`, { method: 'DELETE', headers })).status, 200);
      await receiver.waitFor(() => receiver.events.length === 2, 'the two delete events');
      assert.deepEqual(
        receiver.events.map((event) => [event.action, event.target.repository, event.target.tag ?? event.target.digest]),
        [
          ['delete', 'team/app', 'v1'],
          ['delete', 'team/app', digest],
        ],
      );
      assert.equal(receiver.events[1]!.target.url, `${berth.url}/v2/team/app/manifests/${digest}`);
      assert.deepEqual(
        receiver.events.map((event) => event.actor.name),
        ['alice', 'alice'],
      );
    } finally {
      await berth.stop();
      await receiver.close();
    }
  });

  it('filters by ignore.actions, ignore.mediatypes and repository globs, and sends CloudEvents where asked', async () => {
    const filtered = new Receiver();
    const cloud = new Receiver();
    const berth = await berthWith([
      { name: 'filtered', url: await filtered.listen(), ignore: { actions: ['pull'], mediatypes: [BLOB] }, repositories: ['team/**'] },
      { name: 'cloud', url: await cloud.listen(), format: 'cloudevents', repositories: ['other'] },
    ]);
    try {
      const api = new RegistryAPI(berth.url);
      const team = await pushSmallImage(api, 'team/app', 'v1');
      const other = await pushSmallImage(api, 'other', 'v2');
      assert.equal((await api.request('GET', `/v2/team/app/manifests/v1`)).status, 200);
      assert.equal((await api.request('GET', `/v2/other/manifests/v2`)).status, 200);
      await filtered.waitFor(() => filtered.events.length >= 1, 'the filtered endpoint');
      await cloud.waitFor(() => cloud.deliveries.length >= 4, 'the CloudEvents endpoint');
      // Give stray events a moment to arrive, then check there are none.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        filtered.events.map((event) => [event.action, event.target.repository, event.target.digest, event.target.tag]),
        [['push', 'team/app', `${team.manifest.digest}`, 'v1']],
      );
      assert.equal(cloud.deliveries.length, 4, 'three pushes and a pull of "other" only, one event per POST');
      for (const delivery of cloud.deliveries) assert.equal(delivery.headers['content-type'], 'application/cloudevents+json');
      const types = cloud.deliveries.map((delivery) => delivery.body.type);
      assert.deepEqual(types, ['dev.berth.blob.pushed', 'dev.berth.blob.pushed', 'dev.berth.image.pushed', 'dev.berth.image.pulled']);
      const pushed = cloud.deliveries[2]!.body;
      assert.equal(pushed.specversion, '1.0');
      assert.match(String(pushed.source), /^berth:\/\/.+\/other$/);
      assert.equal(pushed.subject, 'v2');
      assert.match(String(pushed.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof pushed.id, 'string');
      const data = pushed.data as EventBody;
      assert.equal(data.target.digest, `${other.manifest.digest}`);
      assert.equal(data.target.tag, 'v2');
    } finally {
      await berth.stop();
      await filtered.close();
      await cloud.close();
    }
  });

  it('drops the oldest queued events when the queue is full, and counts them', async () => {
    const receiver = new Receiver();
    receiver.holding = true;
    const url = await receiver.listen();
    const queue = new EndpointQueue({ name: 'tiny', url, headers: {}, format: 'distribution', timeoutMs: 10_000, threshold: 1, backoffMs: 100, queueSize: 2 });
    const event = (digest: string): RegistryEvent => ({
      id: digest,
      timestamp: new Date().toISOString(),
      action: 'push',
      target: { digest, repository: 'team/app' },
      request: { id: digest, method: 'PUT' },
      actor: {},
      source: { addr: 'here', instanceID: 'test' },
    });
    try {
      queue.add(event('e1'));
      await receiver.waitFor(() => receiver.deliveries.length === 1, 'the first POST');
      // e1 is in flight; a queue of two keeps the newest two of the four that follow.
      for (const name of ['e2', 'e3', 'e4', 'e5']) queue.add(event(name));
      receiver.release();
      await receiver.waitFor(() => receiver.events.length === 3, 'the rest');
      assert.deepEqual(
        receiver.events.map((sent) => sent.target.digest),
        ['e1', 'e4', 'e5'],
      );
      assert.deepEqual(notificationCount('tiny'), { sent: 3, failed: 0, dropped: 2 });
    } finally {
      await queue.close(0);
      await receiver.close();
    }
  });

  it("reads Distribution's spelling of the endpoints and refuses what it does not know", () => {
    const file = parseConfigFile(
      {
        notifications: {
          endpoints: [
            {
              name: 'a',
              url: 'http://hook/x',
              headers: { Authorization: ['Bearer t'], 'X-One': 'v' },
              timeout: '500ms',
              threshold: 5,
              backoff: '1s',
              ignore: { mediatypes: [BLOB], actions: ['pull'] },
            },
          ],
        },
      },
      'test',
    );
    assert.deepEqual(file.notifications.endpoints?.[0], {
      name: 'a',
      url: 'http://hook/x',
      headers: { Authorization: ['Bearer t'], 'X-One': ['v'] },
      timeout: 500,
      threshold: 5,
      backoff: 1000,
      ignore: { mediatypes: [BLOB], actions: ['pull'] },
    });
    assert.throws(() => parseConfigFile({ notifications: { endpoints: [{ name: 'a', url: 'http://hook', format: 'xml' }] } }, 'test'), /format/);
    assert.throws(
      () =>
        parseConfigFile(
          {
            notifications: {
              endpoints: [
                { name: 'a', url: 'http://one' },
                { name: 'a', url: 'http://two' },
              ],
            },
          },
          'test',
        ),
      /name of their own/,
    );
    assert.throws(
      () => parseConfigFile({ notifications: { endpoints: [{ name: 'a', url: 'http://hook', ignore: { actions: ['tag'] } }] } }, 'test'),
      /actions/,
    );
    assert.throws(() => parseConfigFile({ notifications: { endpoints: [{ name: 'a', url: 'http://hook', treshold: 3 }] } }, 'test'), /did you mean/);
  });
});
