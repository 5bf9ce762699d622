import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCredentials } from '../../client/credentials.ts';
import { RegistryResponseError } from '../../client/errors.ts';
import { parsePlatform } from '../../client/platform.ts';
import { pull } from '../../client/pull.ts';
import { push } from '../../client/push.ts';
import { Reference } from '../../oci/reference.ts';
import { clientFor, tempStore } from '../helpers/client-fixtures.ts';
import { buildImage, skopeoCopy } from '../../peers/oci-image.ts';
import { needs } from '../helpers/peers.ts';
import { startReferenceRegistry, type ReferenceRegistry } from '../../peers/reference-registry.ts';
import { asksFor, startTokenServer, type TokenRequest, type TokenServer } from '../helpers/token-server.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');

/** Runs `berth ARGS` with `input` on stdin; resolves with its exit code and output. */
function berth(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

describe('token auth against Distribution 2.8.2 and a test token server', needs('openssl', 'docker-registry', 'skopeo', 'umoci'), () => {
  let tokens: TokenServer;
  let registry: ReferenceRegistry;
  let layout: string;
  let dockerConfig: string;

  before(async () => {
    tokens = await startTokenServer({ alice: 'wonderland' });
    registry = await startReferenceRegistry({ config: tokens.distributionConfig() });
    layout = await buildImage('v1', [200_000, 50_000]);
    dockerConfig = await mkdtemp(join(tmpdir(), 'docker-config-'));
  });

  after(async () => {
    await registry?.stop();
    await tokens?.stop();
    if (layout) await rm(join(layout, '..'), { recursive: true, force: true });
    if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
  });

  test('anonymous clients may not push: the registry error shows its code', async () => {
    const { store, remove } = await tempStore();
    try {
      await skopeoCopy(`oci:${layout}:v1`, `oci:${store.dir}:v1`);
      const error = await push(clientFor(registry.host), Reference.parse(`${registry.host}/app:v1`), { store }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof RegistryResponseError, String(error));
      assert.equal(error.status, 401);
      assert.ok(error.codes.includes('UNAUTHORIZED'), error.message);
    } finally {
      await remove();
    }
  });

  test('berth login refuses a wrong password and stores a right one in config.json', async () => {
    const env = { DOCKER_CONFIG: dockerConfig };
    const wrong = await berth(['login', registry.host, '-u', 'alice', '--password-stdin'], env, 'guess\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401/);
    const right = await berth(['login', registry.host, '-u', 'alice', '--password-stdin'], env, 'wonderland\n');
    assert.equal(right.code, 0, right.stderr);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[registry.host]!.auth, 'base64').toString(), 'alice:wonderland');
  });

  test('with the stored credentials a push gets a push token; anyone can pull', async () => {
    const credentials = await readCredentials(registry.host, join(dockerConfig, 'config.json'));
    assert.deepEqual(credentials, { username: 'alice', password: 'wonderland' });
    const { store, remove } = await tempStore();
    const { store: pulled, remove: removePulled } = await tempStore();
    try {
      await skopeoCopy(`oci:${layout}:v1`, `oci:${store.dir}:v1`);
      tokens.requests.splice(0);
      const pushed = await push(clientFor(registry.host, credentials), Reference.parse(`${registry.host}/app:v1`), { store });
      assert.equal(pushed.uploaded.blobs, 3);
      // Blobs go up side by side: the requests refused at once share one token fetch per scope.
      const asked = JSON.stringify(tokens.requests);
      assert.equal(tokens.requests.length, 2, asked);
      const [pullToken, pushToken] = tokens.requests as [TokenRequest, TokenRequest];
      assert.ok(pullToken.user === 'alice' && pullToken.service === tokens.service && asksFor(pullToken, 'app', ['pull']), asked);
      assert.ok(pushToken.user === 'alice' && pushToken.service === tokens.service && asksFor(pushToken, 'app', ['pull', 'push']), asked);
      tokens.requests.splice(0);
      const result = await pull(clientFor(registry.host), Reference.parse(`${registry.host}/app:v1`), { store: pulled, platform: parsePlatform(undefined) });
      assert.equal(result.fetched.blobs, 3);
      assert.equal(tokens.requests.length, 1, 'one token for the repository, reused for every blob');
      assert.equal(tokens.requests[0]!.user, undefined);
    } finally {
      await remove();
      await removePulled();
    }
  });

  test('the CLI pulls, lists tags, inspects and deletes with the stored credentials', async () => {
    const env = { DOCKER_CONFIG: dockerConfig };
    const { store, remove } = await tempStore();
    try {
      const pulled = await berth(['pull', `${registry.host}/app:v1`, '--store', store.dir, '--json'], env);
      assert.equal(pulled.code, 0, pulled.stderr);
      const result = JSON.parse(pulled.stdout) as { fetched: { blobs: number }; name: string; digest: string };
      assert.equal(result.fetched.blobs, 3);
      assert.equal(result.name, `${registry.host}/app:v1`);
      const tags = await berth(['tags', `${registry.host}/app`, '--json'], env);
      assert.deepEqual((JSON.parse(tags.stdout) as { tags: string[] }).tags, ['v1']);
      const inspected = await berth(['inspect', `${registry.host}/app:v1`], env);
      assert.match(inspected.stdout, /layers: +2/);
      const config = await berth(['inspect', `${registry.host}/app:v1`, '--config'], env);
      assert.deepEqual((JSON.parse(config.stdout) as { config: { Cmd: string[] } }).config.Cmd, ['/bin/true']);
      // Distribution deletes no tags by name: the tag goes with its manifest, deleted by digest.
      const byTag = await berth(['delete', `${registry.host}/app:v1`], env);
      assert.equal(byTag.code, 1);
      assert.match(
        byTag.stderr,
        new RegExp(`does not delete tags .*; \`berth delete ${registry.host}/app@${result.digest}\` deletes the image with every tag on it`),
      );
      const deleted = await berth(['delete', `${registry.host}/app@${result.digest}`], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout, `deleted ${registry.host}/app@${result.digest} and with it the tags v1\n`);
      const gone = await berth(['inspect', `${registry.host}/app:v1`], env);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /MANIFEST_UNKNOWN/);
    } finally {
      await remove();
    }
  });
});
