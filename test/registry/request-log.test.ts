/** The request log (README "Operations"): one structured line per request, never a secret in it. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startBerthProcess } from '../helpers/berth.ts';
import { ACCESS, basic, fetchToken, USERS, writeUsers } from '../helpers/auth-berth.ts';

/** The JSON lines of a process's output, past its startup line. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits until `count` request lines are out (stdout is written asynchronously). */
async function waitForLines(output: () => string, count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const lines = logLines(output());
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return logLines(output());
}

describe('request log', () => {
  it('writes one JSON line per request with its fields, and never the password, the token or the Authorization header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-request-log-'));
    const htpasswd = await writeUsers(dir);
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      stringify({ auth: { mode: 'token', htpasswd, access: ACCESS, token: { key: join(dir, 'token-key.pem') } }, log: { format: 'json' } }),
    );
    const berth = await startBerthProcess(['--storage', join(dir, 'data'), '--workers', '1', '--config', config]);
    try {
      const token = await fetchToken(berth.url, ['repository:team/app:pull,push'], 'alice');
      const bearer = { Authorization: `Bearer ${token}`, 'User-Agent': 'log-test/1.0' };
      const manifest = await fetch(`${berth.url}/v2/team/app/manifests/v1?secret=in-query`, { headers: { ...bearer, 'X-Request-Id': 'trace-42' } });
      assert.equal(manifest.status, 404);
      assert.equal(manifest.headers.get('x-request-id'), 'trace-42', 'the id given is echoed');
      const made = await fetch(`${berth.url}/v2/`, { headers: bearer });
      assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an id is made when none is given');
      // A wrong password and a wrong token: refused, and still nothing of them logged.
      await fetch(`${berth.url}/token?service=berth`, { headers: { Authorization: basic('alice', 'not-her-password') } });
      await fetch(`${berth.url}/v2/`, { headers: { Authorization: 'Bearer forged.token.value' } });
      // The web interface logs in with Basic credentials on each request: its user is logged as the API's.
      assert.equal((await fetch(`${berth.url}/api/v1/session`, { headers: { Authorization: basic('alice', USERS.alice) } })).status, 200);
      const lines = await waitForLines(berth.process.output, 6);
      assert.equal(lines.length, 6, 'one line per request');
      assert.equal(lines.find((entry) => entry.path === '/api/v1/session')?.user, 'alice', 'the web interface names its user');
      const line = lines.find((entry) => entry.requestId === 'trace-42');
      assert.ok(line, 'the manifest GET is logged under its request id');
      assert.deepEqual(
        { ...line, time: undefined, pid: undefined, durationMs: undefined, remoteAddress: undefined, bytesIn: undefined, bytesOut: undefined },
        {
          level: 'info',
          time: undefined,
          pid: undefined,
          requestId: 'trace-42',
          method: 'GET',
          path: '/v2/team/app/manifests/v1',
          endpoint: 'end-3',
          status: 404,
          bytesIn: undefined,
          bytesOut: undefined,
          durationMs: undefined,
          repository: 'team/app',
          reference: 'v1',
          user: 'alice',
          remoteAddress: undefined,
          userAgent: 'log-test/1.0',
        },
      );
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(line.remoteAddress, '127.0.0.1');
      assert.ok(Number(line.bytesIn) > 0 && Number(line.bytesOut) > 0, 'bytes both ways');
      assert.equal(typeof line.durationMs, 'number');
      const output = berth.process.output();
      for (const secret of [
        USERS.alice,
        'not-her-password',
        token,
        token.split('.')[2]!,
        'forged.token.value',
        'in-query',
        basic('alice', USERS.alice).slice(6),
      ]) {
        assert.ok(!output.includes(secret), `the log holds ${secret}`);
      }
      assert.doesNotMatch(output, /authorization|bearer|basic /i);
      assert.match(output, /^listening on http:\/\/127\.0\.0\.1:\d+ \(/m, 'the startup line is unchanged');
    } finally {
      await berth.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes readable text with log.format text, and nothing below log.level', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-request-log-'));
    try {
      const text = await startBerthProcess(['--storage', join(dir, 'a'), '--workers', '1'], { BERTH_LOG_FORMAT: 'text' });
      try {
        await (await fetch(`${text.url}/v2/`, { headers: { 'X-Request-Id': 'text-1' } })).arrayBuffer();
        for (let i = 0; i < 100 && !text.process.output().includes('text-1'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.match(text.process.output(), /^\[[\d:.]+\] INFO: GET \/v2\/ 200 [\d.]+ ms \d+\/2 B end-1 .*"requestId":"text-1"/m);
      } finally {
        await text.stop();
      }
      const quiet = await startBerthProcess(['--storage', join(dir, 'b'), '--workers', '1'], { BERTH_LOG_LEVEL: 'warn' });
      try {
        await (await fetch(`${quiet.url}/v2/`)).arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(logLines(quiet.process.output()), [], 'info lines are below warn');
      } finally {
        await quiet.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
