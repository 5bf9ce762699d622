import { z } from 'zod';
import { DEFAULT_STORAGE } from '../config/defaults.ts';
import { ConfigError } from '../config/config-error.ts';
import { describeIssues } from '../config/issue.ts';
import { names, oneOf, optionalSection, positiveInteger, positiveNumber, section, text } from '../config/values.ts';
import { defaultTokenKey } from './token-key-location.ts';

export type AuthMode = 'none' | 'htpasswd' | 'token';
export type RuleAction = 'pull' | 'push' | 'delete';

/** One `auth.access` entry: who gets which actions on repositories matching the glob. */
export interface AccessRule {
  repository: string;
  /** Names, "*" (any logged-in user) or "anonymous". */
  users: string[];
  /** Names of `auth.groups` whose members the rule covers. */
  groups: string[];
  actions: RuleAction[];
}

/** Where tokens come from: Berth's own endpoint, or an external issuer's keys. */
export interface TokenConfig {
  /** The token endpoint URL clients are sent to; by default Berth's own `/token` on the requested host. */
  realm?: string;
  service: string;
  issuer: string;
  /** PEM private key of the built-in issuer; generated on first start when missing. */
  key: string;
  expiresInSeconds: number;
  /** External issuer: its JWKS URL, or the path of its PEM public key or certificate. */
  jwks?: string;
  publicKey?: string;
}

export interface AuthConfig {
  mode: AuthMode;
  htpasswd?: string;
  /** The realm named in Basic challenges. */
  realm: string;
  groups: Record<string, string[]>;
  access: AccessRule[];
  token: TokenConfig;
  rateLimit: { attempts: number; windowSeconds: number };
}

const accessRule = section({
  repository: text,
  users: names.default([]),
  groups: names.default([]),
  actions: z.array(oneOf(['pull', 'push', 'delete']), { error: 'must be a list of actions' }).default([]),
});

/** The `auth` section of the config file; absent means mode `none`. */
export const authSection = optionalSection({
  mode: oneOf(['none', 'htpasswd', 'token']).default('none'),
  htpasswd: text.optional(),
  realm: text.default('Berth Registry'),
  groups: z.record(z.string(), names, { error: 'must be a mapping of group names to lists of users' }).default({}),
  access: z.array(accessRule, { error: 'must be a list of rules' }).default([]),
  token: optionalSection({
    realm: text.optional(),
    service: text.default('berth'),
    issuer: text.default('berth'),
    key: text.optional(),
    expiresIn: positiveInteger.default(300),
    jwks: text.optional(),
    publicKey: text.optional(),
  }),
  rateLimit: optionalSection({
    attempts: positiveInteger.default(5),
    windowSeconds: positiveNumber.default(60),
  }),
}).superRefine((auth, context) => {
  const external = Boolean(auth.token.jwks || auth.token.publicKey);
  if (auth.mode === 'htpasswd' && !auth.htpasswd) context.addIssue({ code: 'custom', path: ['htpasswd'], message: 'is required in htpasswd mode' });
  if (auth.mode === 'token' && !external && !auth.htpasswd) {
    context.addIssue({ code: 'custom', path: ['htpasswd'], message: 'is required in token mode with the built-in token endpoint' });
  }
  if (external && !auth.token.realm)
    context.addIssue({ code: 'custom', path: ['token', 'realm'], message: 'is required with an external issuer (jwks or publicKey)' });
});

export type AuthSection = z.output<typeof authSection>;

/** The checked section with its defaults; `defaultKey` is where the signing key goes unless `auth.token.key` says. */
export function toAuthConfig(auth: AuthSection, defaultKey: string): AuthConfig {
  const { token } = auth;
  return {
    mode: auth.mode,
    htpasswd: auth.htpasswd,
    realm: auth.realm,
    groups: auth.groups,
    access: auth.access,
    token: {
      realm: token.realm,
      service: token.service,
      issuer: token.issuer,
      key: token.key ?? defaultKey,
      expiresInSeconds: token.expiresIn,
      jwks: token.jwks,
      publicKey: token.publicKey,
    },
    rateLimit: auth.rateLimit,
  };
}

/** An `auth` section on its own (tests, tools); `berth serve` checks it with the whole file. */
export function parseAuthConfig(value: unknown, defaultKey = defaultTokenKey(DEFAULT_STORAGE)): AuthConfig {
  // Parsed under its key, so that messages name it in full ("auth.mode …").
  const parsed = section({ auth: authSection }).safeParse({ auth: value }, { reportInput: true });
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues));
  return toAuthConfig(parsed.data.auth, defaultKey);
}
