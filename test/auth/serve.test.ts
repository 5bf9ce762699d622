/** `berth serve` as users run it: config file, workers, HTTPS, and users managed with `berth user`. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { ACCESS } from '../helpers/auth-berth.ts';
import { BERTH_CLI, runBerth } from '../helpers/berth-cli.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { freePort, startProcess, type RunningProcess } from '../../peers/processes.ts';

describe('berth user', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-users-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('adds (password from stdin, bcrypt, owner-only file), lists and removes users; never prints the password', async () => {
    const file = join(dir, 'users.htpasswd');
    const added = await runBerth(['user', 'add', 'alice', '--htpasswd', file], 'very-secret\n');
    assert.equal(added.code, 0, added.stderr);
    assert.doesNotMatch(added.stdout + added.stderr, /very-secret/);
    assert.equal((await runBerth(['user', 'add', 'bob', '--htpasswd', file], 'other\n')).code, 0);
    assert.match(await readFile(file, 'utf8'), /^alice:\$2[aby]\$10\$.{53}\nbob:\$2[aby]\$10\$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await runBerth(['user', 'list', '--htpasswd', file])).stdout, 'alice\nbob\n');
    assert.equal((await runBerth(['user', 'remove', 'alice', '--htpasswd', file])).code, 0);
    assert.equal((await runBerth(['user', 'list', '--htpasswd', file])).stdout, 'bob\n');
    const missing = await runBerth(['user', 'remove', 'alice', '--htpasswd', file]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user "alice"/);
    const empty = await runBerth(['user', 'add', 'carol', '--htpasswd', file], '');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no password on standard input/);
  });
});

describe('berth serve with token auth over HTTPS, two workers', needs('openssl', 'skopeo', 'umoci'), () => {
  let dir: string;
  let server: RunningProcess;
  let host: string;
  let certDir: string;
  let layout: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-serve-auth-'));
    certDir = join(dir, 'certs');
    await mkdir(certDir);
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(dir, 'tls.key'), '-out', join(certDir, 'ca.crt'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    const htpasswd = join(dir, 'users.htpasswd');
    assert.equal((await runBerth(['user', 'add', 'alice', '--htpasswd', htpasswd], 'wonderland\n')).code, 0);
    const config = join(dir, 'config.yml');
    await writeFile(config, stringify({ auth: { mode: 'token', htpasswd, access: ACCESS, token: { key: join(dir, 'token-key.pem') } } }));
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    server = await startProcess(
      process.execPath,
      ['--import', 'tsx', BERTH_CLI, 'serve', '--listen', host, '--storage', join(dir, 'data'), '--config', config, '--workers', '2', '--tls-cert', join(certDir, 'ca.crt'), '--tls-key', join(dir, 'tls.key')],
      /listening on https:\/\/\S+/,
    );
    layout = await buildImage('v1', [50_000]);
  });
  after(async () => {
    await server?.stop();
    if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('serves HTTPS that skopeo verifies against the certificate, and creates one signing key for both workers', async () => {
    assert.match(server.output(), new RegExp(`listening on https://${host}`));
    const authfile = join(dir, 'auth.json');
    const login = run('skopeo', ['login', '--cert-dir', certDir, '--authfile', authfile, '-u', 'alice', '--password-stdin', host]);
    login.child.stdin?.end('wonderland\n');
    await login;
    await skopeoCopy(`oci:${layout}:v1`, `docker://${host}/team/tls:v1`, ['--authfile', authfile, '--dest-tls-verify=true', '--dest-cert-dir', certDir]);
    const inspected = await run('skopeo', ['inspect', '--cert-dir', certDir, '--authfile', authfile, `docker://${host}/team/tls:v1`]);
    assert.match(inspected.stdout, /"Digest": "sha256:/);
    await assert.rejects(run('skopeo', ['inspect', '--authfile', authfile, `docker://${host}/team/tls:v1`]), /certificate/i, 'an untrusted certificate is refused');
    assert.equal((await stat(join(dir, 'token-key.pem'))).mode & 0o777, 0o600);
  });

  test('a user added while the registry runs can log in at once', async () => {
    assert.equal((await runBerth(['user', 'add', 'carol', '--htpasswd', join(dir, 'users.htpasswd')], 'carols-pass\n')).code, 0);
    const login = run('skopeo', ['login', '--cert-dir', certDir, '--authfile', join(dir, 'carol.json'), '-u', 'carol', '--password-stdin', host]);
    login.child.stdin?.end('carols-pass\n');
    await login;
  });
});

describe('berth serve configuration errors', () => {
  test('a bad auth section or half a TLS pair is a one-line error and exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-serve-bad-'));
    try {
      const config = join(dir, 'config.yml');
      await writeFile(config, stringify({ auth: { mode: 'kerberos' } }));
      const bad = await runBerth(['serve', '--listen', '127.0.0.1:0', '--storage', dir, '--config', config]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr, 'berth serve: auth.mode must be none, htpasswd or token, not "kerberos"\n');
      const half = await runBerth(['serve', '--listen', '127.0.0.1:0', '--storage', dir, '--tls-cert', config]);
      assert.equal(half.code, 1);
      assert.match(half.stderr, /TLS needs both a certificate and a key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
