/** `berth serve` as users run it: config file, workers, HTTPS, and users managed with `berth user`. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { ACCESS } from '../helpers/auth-berth.ts';
import { BERTH_CLI, runBerth } from '../helpers/berth-cli.ts';
import { buildImage, run, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { startProcess, type RunningProcess } from '../../peers/processes.ts';
import { announcedUrl } from '../helpers/berth.ts';
import { selfSignedCertificate } from '../../peers/certificate.ts';

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
    await selfSignedCertificate(join(certDir, 'ca.crt'), join(dir, 'tls.key'));
    const htpasswd = join(dir, 'users.htpasswd');
    assert.equal((await runBerth(['user', 'add', 'alice', '--htpasswd', htpasswd], 'wonderland\n')).code, 0);
    const config = join(dir, 'config.yml');
    await writeFile(config, stringify({ auth: { mode: 'token', htpasswd, access: ACCESS, token: { key: join(dir, 'token-key.pem') } } }));
    server = await startProcess(
      process.execPath,
      [
        '--import',
        'tsx',
        BERTH_CLI,
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--storage',
        join(dir, 'data'),
        '--config',
        config,
        '--workers',
        '2',
        '--tls-cert',
        join(certDir, 'ca.crt'),
        '--tls-key',
        join(dir, 'tls.key'),
      ],
      /listening on https:\/\/\S+/,
    );
    host = new URL(announcedUrl(server.output(), 'listening on')).host;
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
    await assert.rejects(
      run('skopeo', ['inspect', '--authfile', authfile, `docker://${host}/team/tls:v1`]),
      /certificate/i,
      'an untrusted certificate is refused',
    );
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
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-serve-bad-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /**
   * `berth serve` with `config`: a server that starts anyway would never return, so it is stopped
   * after a while and reported with what it printed.
   */
  async function serveWith(config: Record<string, unknown>): Promise<{ path: string; code: number | null; stdout: string; stderr: string }> {
    const path = join(dir, 'config.yml');
    await writeFile(path, stringify(config));
    const args = ['--import', 'tsx', BERTH_CLI, 'serve', '--listen', '127.0.0.1:0', '--storage', join(dir, 'data'), '--workers', '1', '--config', path];
    return new Promise((resolve) => {
      execFile(process.execPath, args, { timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ path, code: error ? (error.code as number | null) : 0, stdout, stderr }),
      );
    });
  }

  test('a misspelt auth: stops the server instead of serving everyone anonymously', async () => {
    const result = await serveWith({ auht: { mode: 'htpasswd', htpasswd: join(dir, 'users.htpasswd') } });
    assert.doesNotMatch(result.stdout, /listening on/);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `berth serve: config file ${result.path}: unknown key "auht" (did you mean "auth"?)\n`);
  });

  test('an unknown section, a wrong type or a bad value is one line naming the file and the key, and exit 1', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ logging: { level: 'debug' } }, 'unknown key "logging"'],
      [{ workers: 'many' }, 'workers must be a number of processes or "auto", not "many"'],
      [{ auth: { mode: 'kerberos' } }, 'auth.mode must be none, htpasswd or token, not "kerberos"'],
    ];
    for (const [config, message] of cases) {
      const result = await serveWith(config);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(result.stderr, `berth serve: config file ${result.path}: ${message}\n`);
    }
  });

  test('half a TLS pair is a one-line error and exit 1', async () => {
    const half = await runBerth(['serve', '--listen', '127.0.0.1:0', '--storage', dir, '--tls-cert', join(dir, 'cert.pem')]);
    assert.equal(half.code, 1);
    assert.equal(half.stderr, 'berth serve: TLS needs both a certificate and a key (--tls-cert and --tls-key)\n');
  });
});

describe('the token signing key of berth serve', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-serve-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('is made beside the data, owner-only, and not in the directory the server started in', async () => {
    const htpasswd = join(dir, 'users.htpasswd');
    assert.equal((await runBerth(['user', 'add', 'alice', '--htpasswd', htpasswd], 'wonderland\n')).code, 0);
    const config = join(dir, 'config.yml');
    await writeFile(config, stringify({ auth: { mode: 'token', htpasswd, access: ACCESS } }));
    const started = join(dir, 'started-here');
    await mkdir(started);
    const data = join(dir, 'data');
    // By URL: `--import tsx` would be looked for in the working directory.
    const tsx = import.meta.resolve('tsx');
    const server = await startProcess(
      process.execPath,
      ['--import', tsx, BERTH_CLI, 'serve', '--listen', '127.0.0.1:0', '--storage', data, '--config', config, '--workers', '1'],
      /listening on/,
      {
        cwd: started,
      },
    );
    try {
      assert.match(server.output(), /listening on http:\/\/127\.0\.0\.1:\d+ \(storage \S+, auth token, 1 process\)/);
      assert.equal((await stat(join(data, 'berth-token-key.pem'))).mode & 0o777, 0o600);
      assert.deepEqual(await readdir(started), []);
    } finally {
      await server.stop();
    }
  });
});
