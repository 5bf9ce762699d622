/** The config file's schema (issue 20, item 1): every documented key works, nothing else passes. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultTokenKey } from '../../registry/auth/token-key-location.ts';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { refusal } from '../helpers/config-refusal.ts';
import { loadServeConfig } from '../../registry/config/serve-config.ts';

const README = join(import.meta.dirname, '../../README.md');

describe('the config file', () => {
  it('takes every YAML example in the README', async () => {
    const blocks = [...(await readFile(README, 'utf8')).matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
    assert.ok(blocks.length >= 5, `found ${blocks.length} YAML blocks`);
    for (const block of blocks) assert.doesNotThrow(() => parseConfigFile(parse(block), 'README.md'), block);
  });

  it('refuses an unknown key at any depth, naming it in full with the key it most likely meant', () => {
    assert.equal(refusal('auht:\n  mode: htpasswd\n'), 'config file berth.yml: unknown key "auht" (did you mean "auth"?)');
    assert.equal(refusal('logging:\n  level: debug\n'), 'config file berth.yml: unknown key "logging"');
    assert.equal(refusal('Workers: 2\n'), 'config file berth.yml: unknown key "Workers" (did you mean "workers"?)');
    assert.equal(refusal('storage:\n  pth: /srv\n'), 'config file berth.yml: unknown key "storage.pth" (did you mean "storage.path"?)');
    assert.equal(
      refusal('auth:\n  mode: token\n  htpasswd: u\n  token:\n    expires: 60\n'),
      'config file berth.yml: unknown key "auth.token.expires" (did you mean "auth.token.expiresIn"?)',
    );
    assert.equal(
      refusal('auth:\n  mode: htpasswd\n  htpasswd: u\n  access:\n    - { repository: x, user: [a] }\n'),
      'config file berth.yml: unknown key "auth.access[0].user" (did you mean "auth.access[0].users"?)',
      'a misspelling is reported before what it causes',
    );
  });

  it('refuses a value of the wrong type or out of range, naming the key and what it found', () => {
    const cases: [string, string][] = [
      ['workers: many', 'workers must be a number of processes or "auto", not "many"'],
      ['workers: 0', 'workers must be a number of processes or "auto", not 0'],
      ['listen: nowhere', 'listen must be HOST:PORT, not "nowhere"'],
      ['storage: 5', 'storage must be a directory, s3://BUCKET[/PREFIX] or a mapping, not 5'],
      ['storage: { path: a, url: b }', 'storage.url and storage.path cannot both be given'],
      ['storage: { directWrites: sometimes }', 'storage.directWrites must be true or false, not "sometimes"'],
      ['storage: { s3: { endpoint: minio } }', 'storage.s3.endpoint must be a URL, not "minio"'],
      ['storage: { s3: { secretAccessKey: 12345 } }', 'storage.s3.secretAccessKey must be a string'],
      ['storage: { s3: { partSize: 1MiB } }', 'storage.s3.partSize must be at least 5 MiB (S3 refuses smaller parts), not 1048576'],
      ['storage: { s3: { parallelParts: 0 } }', 'storage.s3.parallelParts must be above 0, not 0'],
      ['storage: { localCache: { size: 2GB } }', 'storage.localCache.size must be bytes, or a number with KiB, MiB, GiB or TiB, not "2GB"'],
      ['tls: { cert: [a] }', 'tls.cert must be a string, not a list'],
      ['auth: token', 'auth must be a mapping, not "token"'],
      ['auth: { mode: kerberos }', 'auth.mode must be none, htpasswd or token, not "kerberos"'],
      ['auth: { mode: htpasswd }', 'auth.htpasswd is required in htpasswd mode'],
      ['auth: { rateLimit: { attempts: 0 } }', 'auth.rateLimit.attempts must be above 0, not 0'],
      ['auth: { token: { expiresIn: "5m" } }', 'auth.token.expiresIn must be a whole number, not "5m"'],
      ['auth: { access: [{ repository: x, actions: [write] }] }', 'auth.access[0].actions[0] must be pull, push or delete, not "write"'],
      ['gc: { gracePeriod: 1 hour }', 'gc.gracePeriod must be a duration such as 30s, 15m, 1h or 7d, not "1 hour"'],
      ['gc: { deleteUntagged: yes }', 'gc.deleteUntagged must be true or false, not "yes"'],
      ['- listen: 0.0.0.0:5000', 'must be a YAML mapping, not a list'],
    ];
    // A webhook's header may hold a token: its value is never echoed.
    const header = refusal('notifications: { endpoints: [{ name: a, url: "http://127.0.0.1:1/", headers: { Authorization: 98765 } }] }');
    assert.doesNotMatch(header, /98765/);
    assert.match(header, /notifications\.endpoints\[0\]\.headers\.Authorization/);
    for (const [content, message] of cases) assert.equal(refusal(content), `config file berth.yml: ${message}`);
  });

  it('treats an empty file or section as absent', () => {
    assert.equal(parseConfigFile(parse(''), 'berth.yml').auth.mode, 'none');
    assert.equal(parseConfigFile(parse('auth:\n'), 'berth.yml').auth.mode, 'none');
    assert.equal(parseConfigFile(parse('storage:\n'), 'berth.yml').storage.directWrites, true);
  });
});

describe('where the token signing key goes by default', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is the storage directory for storage on disk, and the local state directory for S3', () => {
    assert.equal(defaultTokenKey('/srv/registry', {}), '/srv/registry/berth-token-key.pem');
    assert.equal(
      defaultTokenKey('s3://bucket/some/prefix', { XDG_STATE_HOME: '/var/lib/state' }),
      '/var/lib/state/berth/bucket/some/prefix/berth-token-key.pem',
    );
    assert.equal(
      defaultTokenKey('s3://bucket/../x', { XDG_STATE_HOME: '/state' }),
      '/state/berth/bucket/%2E%2E/x/berth-token-key.pem',
      'no way out of the state directory',
    );
  });

  it('follows the storage that flags, environment or file choose; auth.token.key wins', async () => {
    const config = join(dir, 'berth.yml');
    await writeFile(config, 'storage: /from/file\nauth:\n  mode: token\n  htpasswd: users\n');
    assert.equal((await loadServeConfig({ config }, {})).auth.token.key, '/from/file/berth-token-key.pem');
    assert.equal((await loadServeConfig({ config, storage: '/from/flag' }, {})).auth.token.key, '/from/flag/berth-token-key.pem');
    await writeFile(config, 'auth:\n  mode: token\n  htpasswd: users\n  token:\n    key: /etc/berth/key.pem\n');
    assert.equal((await loadServeConfig({ config, storage: '/from/flag' }, {})).auth.token.key, '/etc/berth/key.pem');
  });
});

describe('the shared lookups of replicas on S3 (storage.s3.redis)', () => {
  it('come from BERTH_S3_REDIS over the file, beside the rest of its s3 section, and a bad URL is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
    try {
      const config = join(dir, 'berth.yml');
      await writeFile(config, 'storage:\n  url: s3://bucket/registry\n  s3:\n    region: eu-west-1\n    redis: redis://from-file:6379\n');
      assert.deepEqual((await loadServeConfig({ config }, {})).s3, { region: 'eu-west-1', redis: 'redis://from-file:6379' });
      assert.deepEqual((await loadServeConfig({ config }, { BERTH_S3_REDIS: 'redis://from-env:6379' })).s3, {
        region: 'eu-west-1',
        redis: 'redis://from-env:6379',
      });
      assert.deepEqual((await loadServeConfig({ storage: 's3://bucket' }, { BERTH_S3_REDIS: 'redis://r:6379' })).s3, { redis: 'redis://r:6379' });
      await assert.rejects(loadServeConfig({ storage: 's3://bucket' }, { BERTH_S3_REDIS: 'not a url' }), /BERTH_S3_REDIS: invalid URL "not a url"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
