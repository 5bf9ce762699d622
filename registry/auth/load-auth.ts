import { AccessRules } from './access-rules.ts';
import type { AuthConfig } from './config.ts';
import { Logins } from './credentials.ts';
import { Htpasswd } from './htpasswd.ts';
import { LoginRateLimit } from './rate-limit.ts';
import { loadOrCreateSigningKey, TokenIssuer } from './token-issuer.ts';
import { TokenVerifier } from './token-verifier.ts';

/** Everything the auth middleware and the token endpoint need, built once per process. */
export interface AuthServices {
  config: AuthConfig;
  rules: AccessRules;
  /** htpasswd mode, and token mode with the built-in endpoint. */
  logins?: Logins;
  /** Token mode with the built-in endpoint (no external issuer). */
  issuer?: TokenIssuer;
  /** Token mode. */
  verifier?: TokenVerifier;
}

/**
 * Reads the htpasswd file and the token keys the mode needs; undefined when auth is off.
 * `log` gets a line per failed login.
 */
export async function loadAuth(config: AuthConfig, log: (line: string) => void = (line) => console.error(line)): Promise<AuthServices | undefined> {
  if (config.mode === 'none') return undefined;
  const services: AuthServices = { config, rules: new AccessRules(config.access, config.groups) };
  if (config.htpasswd) {
    const users = new Htpasswd(config.htpasswd);
    await users.load().catch((error: Error) => {
      throw new Error(`cannot read htpasswd file ${config.htpasswd}: ${error.message}`);
    });
    services.logins = new Logins(users, new LoginRateLimit(config.rateLimit), log);
  }
  if (config.mode === 'token') {
    if (config.token.jwks || config.token.publicKey) {
      services.verifier = await TokenVerifier.external(config.token);
    } else {
      const key = await loadOrCreateSigningKey(config.token.key);
      services.issuer = new TokenIssuer(config.token, key);
      services.verifier = TokenVerifier.local(config.token, key);
    }
  }
  return services;
}
