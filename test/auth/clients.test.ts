/** Standard clients against Berth with auth: skopeo, podman, the Berth client, the conformance runner. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryResponseError } from '../../client/errors.ts';
import { parsePlatform } from '../../client/platform.ts';
import { pull } from '../../client/pull.ts';
import { push } from '../../client/push.ts';
import { optionsFromEnv } from '../../conformance/options.ts';
import { runConformance } from '../../conformance/runner.ts';
import { Reference } from '../../oci/reference.ts';
import { ACCESS, startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { clientFor, tempStore } from '../helpers/client-fixtures.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';

/** `skopeo login` with the password on stdin; resolves with its exit code and stderr. */
function skopeoLogin(host: string, authfile: string, user: string, password: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = run('skopeo', ['login', '--tls-verify=false', '--authfile', authfile, '-u', user, '--password-stdin', host]);
    child.child.stdin?.end(`${password}\n`);
    child.then(
      () => resolve({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => resolve(error),
    );
  });
}

/** podman with its own storage (vfs, so it runs as root in a container) and login file under `dir`. */
function podman(dir: string, args: string[], input?: string) {
  const storage = ['--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), '--storage-driver', 'vfs'];
  const child = run('podman', [...storage, ...args], { env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, 'podman-auth.json') } });
  child.child.stdin?.end(input ?? '');
  return child;
}

const skopeoDigest = async (ref: string, extra: string[]) =>
  (JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', ...extra, ref])).stdout) as { Digest: string }).Digest;

for (const mode of ['token', 'htpasswd'] as const) {
  describe(`${mode} mode with standard clients`, needs('skopeo', 'umoci'), () => {
    let berth: AuthBerth;
    let layout: string;
    let scratch: string;

    before(async () => {
      berth = await startAuthBerth(mode);
      layout = await buildImage('v1', [100_000, 20_000]);
      scratch = await mkdtemp(join(tmpdir(), 'auth-clients-'));
    });
    after(async () => {
      await berth?.stop();
      if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test('skopeo logs in (a wrong password is refused), pushes and pulls with the stored login; others are refused', async () => {
      const authfile = join(scratch, 'auth.json');
      const wrong = await skopeoLogin(berth.host, authfile, 'bob', 'not-his-password');
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /401|unauthorized|invalid username/i);
      assert.equal((await skopeoLogin(berth.host, authfile, 'alice', USERS.alice)).code, 0);
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/skopeo:v1`, ['--authfile', authfile]);
      await skopeoCopy(`docker://${berth.host}/team/skopeo:v1`, `oci:${join(scratch, 'pulled')}:v1`, ['--authfile', authfile]);
      assert.equal(
        await skopeoDigest(`docker://${berth.host}/team/skopeo:v1`, ['--creds', `alice:${USERS.alice}`]),
        await skopeoDigest(`oci:${join(scratch, 'pulled')}:v1`, []),
      );
      await assert.rejects(
        skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/skopeo:v2`, ['--dest-creds', `bob:${USERS.bob}`]),
        /denied|unauthorized|403|401/i,
      );
      await assert.rejects(skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/skopeo:v2`, ['--dest-no-creds']), /denied|unauthorized|403|401/i);
      await assert.rejects(
        skopeoCopy(`docker://${berth.host}/team/skopeo:v1`, `oci:${join(scratch, 'denied')}:v1`, ['--src-no-creds']),
        /denied|unauthorized|403|401/i,
      );
    });

    test('podman logs in (a wrong password is refused), pulls and pushes', needs('podman'), async () => {
      await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/team/podman:v1`, ['--dest-creds', `alice:${USERS.alice}`]);
      await assert.rejects(
        podman(scratch, ['login', '--tls-verify=false', '-u', 'bob', '--password-stdin', berth.host], 'wrong\n'),
        /401|unauthorized|invalid username/i,
      );
      await podman(scratch, ['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', berth.host], `${USERS.alice}\n`);
      await podman(scratch, ['pull', '--tls-verify=false', `${berth.host}/team/podman:v1`]);
      await podman(scratch, ['tag', `${berth.host}/team/podman:v1`, `${berth.host}/team/podman:v2`]);
      await podman(scratch, ['push', '--tls-verify=false', `${berth.host}/team/podman:v2`]);
      assert.equal(
        await skopeoDigest(`docker://${berth.host}/team/podman:v2`, ['--creds', `alice:${USERS.alice}`]).then((digest) => digest.startsWith('sha256:')),
        true,
      );
    });

    test('the Berth client pushes and pulls with credentials; without them the push is refused', async () => {
      const { store, remove } = await tempStore();
      const { store: pulled, remove: removePulled } = await tempStore();
      try {
        await skopeoCopy(`oci:${layout}:v1`, `oci:${store.dir}:v1`);
        const target = Reference.parse(`${berth.host}/team/client:v1`);
        const refused = await push(clientFor(berth.host), target, { store, from: 'v1' }).then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(refused instanceof RegistryResponseError, String(refused));
        assert.ok([401, 403].includes(refused.status), refused.message);
        const credentials = { username: 'alice', password: USERS.alice };
        const pushed = await push(clientFor(berth.host, credentials), target, { store, from: 'v1' });
        assert.equal(pushed.uploaded.blobs, 3);
        const result = await pull(clientFor(berth.host, credentials), target, { store: pulled, platform: parsePlatform(undefined) });
        assert.equal(result.fetched.blobs, 3);
      } finally {
        await remove();
        await removePulled();
      }
    });
  });
}

describe('anonymous pull with skopeo where the rules allow it', needs('skopeo', 'umoci'), () => {
  /** alice publishes to public/**, everyone (logged in or not) pulls from it. */
  const PUBLISHING = { access: [{ repository: 'public/**', users: ['alice'], actions: ['pull', 'push'] }, ...ACCESS] };

  for (const mode of ['token', 'htpasswd'] as const) {
    test(`${mode} mode`, async () => {
      const berth = await startAuthBerth(mode, PUBLISHING);
      const layout = await buildImage('v1', [10_000]);
      try {
        await skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/public/tool:v1`, ['--dest-creds', `alice:${USERS.alice}`]);
        await skopeoCopy(`docker://${berth.host}/public/tool:v1`, `oci:${layout}-pulled:v1`, ['--src-no-creds']);
        await assert.rejects(skopeoCopy(`oci:${layout}:v1`, `docker://${berth.host}/public/tool:v2`, ['--dest-no-creds']), /denied|unauthorized|403|401/i);
      } finally {
        await berth.stop();
        await rm(join(layout, '..'), { recursive: true, force: true });
      }
    });
  }
});

describe('the conformance runner in token mode', () => {
  let berth: AuthBerth;
  before(async () => {
    berth = await startAuthBerth('token');
  });
  after(() => berth?.stop());

  test('passes every check with OCI_USERNAME/OCI_PASSWORD', async () => {
    const report = await runConformance(
      optionsFromEnv({
        OCI_ROOT_URL: berth.url,
        OCI_USERNAME: 'alice',
        OCI_PASSWORD: USERS.alice,
        OCI_NAMESPACE: 'team/conformance',
        OCI_CROSSMOUNT_NAMESPACE: 'team/crossmount',
      }),
    );
    const notPassed = report.results.filter((result) => result.outcome.status !== 'passed');
    assert.deepEqual(notPassed, []);
    assert.ok(report.passed >= 37, `${report.passed} checks passed`);
  });
});
