import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SignJWT } from 'jose';
import { makeDirectory } from '../../storage/make-directory.ts';
import type { TokenConfig } from './config.ts';
import type { Scope } from './scope.ts';

export const TOKEN_ALGORITHM = 'ES256';
/** Refresh tokens are JWTs too, for this audience, so they are never accepted as access tokens. */
export const REFRESH_SUFFIX = '#refresh';
const REFRESH_LIFETIME_SECONDS = 30 * 24 * 3600;
/** The refresh token's claim holding the fingerprint of its user's htpasswd entry at issue. */
export const ENTRY_CLAIM = 'htpasswd_entry';

/**
 * The built-in issuer's key: read from `path`, or generated and written there on first start.
 * The file is created with link() so concurrent workers agree on one key.
 */
export async function loadOrCreateSigningKey(path: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read token key ${path}: ${(error as Error).message}`, { cause: error });
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Only its owner may list where a private key lives (the default for S3 is a new state directory).
  await makeDirectory(dirname(path), 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return loadOrCreateSigningKey(path);
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

/** Signs access tokens (auth-jwt.md) and refresh tokens (auth-oauth.md) with the built-in key. */
export class TokenIssuer {
  constructor(
    private readonly config: TokenConfig,
    private readonly key: KeyObject,
  ) {}

  private async sign(claims: Record<string, unknown>, subject: string, audience: string, lifetime: number): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
      .setIssuer(this.config.issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresIn: lifetime, issuedAt: new Date(now * 1000).toISOString() };
  }

  /** `subject` is the user name, or "" for an anonymous token. */
  access(subject: string, access: Scope[]): Promise<IssuedToken> {
    return this.sign({ access }, subject, this.config.service, this.config.expiresInSeconds);
  }

  /** `entry` is the fingerprint of the user's htpasswd entry, checked again at every refresh. */
  refresh(subject: string, entry: string): Promise<IssuedToken> {
    return this.sign({ [ENTRY_CLAIM]: entry }, subject, this.config.service + REFRESH_SUFFIX, REFRESH_LIFETIME_SECONDS);
  }
}
