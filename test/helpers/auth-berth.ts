import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuthConfig } from '../../registry/auth/config.ts';
import { hashPassword } from '../../registry/auth/htpasswd.ts';
import { startBerth, type RunningBerth } from './berth.ts';

export const USERS = { alice: 'wonderland', bob: 'builder' } as const;

/** The issue's example rules, plus one repository bob may only pull. */
export const ACCESS = [
  { repository: 'team/**', users: ['alice'], actions: ['pull', 'push', 'delete'] },
  { repository: 'readonly/**', users: ['alice', 'bob'], actions: ['pull'] },
  { repository: 'public/**', users: ['*', 'anonymous'], actions: ['pull'] },
  { repository: 'bob/**', users: ['bob'], actions: ['pull', 'push'] },
];

export interface AuthBerth extends RunningBerth {
  /** The directory holding the htpasswd file and the token key. */
  secrets: string;
}

/** Writes the htpasswd file for USERS; returns its path. */
export async function writeUsers(dir: string): Promise<string> {
  const path = join(dir, 'users.htpasswd');
  const lines = await Promise.all(Object.entries(USERS).map(async ([name, password]) => `${name}:${await hashPassword(password)}\n`));
  await writeFile(path, lines.join(''));
  return path;
}

/** Berth in this process with `auth.mode` `mode`, USERS and ACCESS; `auth` overrides the section. */
export async function startAuthBerth(mode: 'htpasswd' | 'token', auth: Record<string, unknown> = {}, tls?: { cert: string; key: string }): Promise<AuthBerth> {
  const secrets = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  const htpasswd = await writeUsers(secrets);
  const config = parseAuthConfig({ mode, htpasswd, access: ACCESS, token: { key: join(secrets, 'token-key.pem') }, ...auth });
  const berth = await startBerth({ auth: config, tls });
  return {
    ...berth,
    secrets,
    async stop() {
      await berth.stop();
      await rm(secrets, { recursive: true, force: true });
    },
  };
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A token from Berth's GET /token for `scopes`, with `user`'s credentials or anonymously. */
export async function fetchToken(url: string, scopes: string[], user?: keyof typeof USERS): Promise<string> {
  const query = new URLSearchParams([['service', 'berth'], ...scopes.map((scope) => ['scope', scope])]);
  const response = await fetch(`${url}/token?${query}`, { headers: user ? { Authorization: basic(user, USERS[user]) } : {} });
  if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
