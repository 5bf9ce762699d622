import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { TokenConfig } from './config.ts';
import type { Scope } from './scope.ts';
import { ENTRY_CLAIM, REFRESH_SUFFIX, TOKEN_ALGORITHM } from './token-issuer.ts';

/** Clock difference tolerated between issuer and registry. */
const CLOCK_SKEW_SECONDS = 30;
/** What an external issuer may sign with; `none` and HMAC never. */
const EXTERNAL_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export interface VerifiedToken {
  subject: string;
  access: Scope[];
}

/** Whom a refresh token was issued to, and the fingerprint of their htpasswd entry then. */
export interface VerifiedRefresh {
  subject: string;
  entry: string;
}

export class InvalidTokenError extends Error {}

/** The `access` claim, tolerating malformed entries by dropping them. */
function accessClaim(value: unknown): Scope[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: { type?: unknown; name?: unknown; actions?: unknown }) =>
    typeof entry?.type === 'string' && typeof entry.name === 'string' && Array.isArray(entry.actions)
      ? [{ type: entry.type, name: entry.name, actions: entry.actions.filter((action): action is string => typeof action === 'string') }]
      : [],
  );
}

/** Checks signature, issuer, audience and validity period of a token, by one key or a JWKS. */
export class TokenVerifier {
  private constructor(
    private readonly config: TokenConfig,
    private readonly key: KeyObject | JWTVerifyGetKey,
    private readonly algorithms: string[],
  ) {}

  static local(config: TokenConfig, signingKey: KeyObject): TokenVerifier {
    return new TokenVerifier(config, createPublicKey(signingKey), [TOKEN_ALGORITHM]);
  }

  /** An external issuer: its JWKS URL, or a PEM public key or certificate file. */
  static async external(config: TokenConfig): Promise<TokenVerifier> {
    if (config.jwks) return new TokenVerifier(config, createRemoteJWKSet(new URL(config.jwks)), EXTERNAL_ALGORITHMS);
    const pem = await readFile(config.publicKey!, 'utf8');
    return new TokenVerifier(config, createPublicKey(pem), EXTERNAL_ALGORITHMS);
  }

  private async verify(token: string, audience: string) {
    try {
      const { payload } = await jwtVerify(token, this.key as KeyObject, {
        issuer: this.config.issuer,
        audience,
        algorithms: this.algorithms,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      throw new InvalidTokenError((error as Error).message);
    }
  }

  async verifyAccess(token: string): Promise<VerifiedToken> {
    const payload = await this.verify(token, this.config.service);
    return { subject: payload.sub ?? '', access: accessClaim(payload.access) };
  }

  /** Tokens issued before refresh tokens named the entry have none, and are refused. */
  async verifyRefresh(token: string): Promise<VerifiedRefresh> {
    const payload = await this.verify(token, this.config.service + REFRESH_SUFFIX);
    const entry = payload[ENTRY_CLAIM];
    if (!payload.sub) throw new InvalidTokenError('refresh token without a subject');
    if (typeof entry !== 'string') throw new InvalidTokenError('refresh token without the fingerprint of its user');
    return { subject: payload.sub, entry };
  }
}
