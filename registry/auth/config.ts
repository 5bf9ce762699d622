import { ConfigError } from '../config.ts';

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

export const DEFAULT_TOKEN_KEY = './berth-token-key.pem';
const ACTIONS: readonly string[] = ['pull', 'push', 'delete'];

type Section = Record<string, unknown>;

function mapping(value: unknown, where: string): Section {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where} must be a mapping`);
  return value as Section;
}

function optionalString(section: Section, key: string, where: string): string | undefined {
  const value = section[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where}.${key} must be a non-empty string`);
  return value;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new ConfigError(`${where} must be a list of strings`);
  return value as string[];
}

function positiveNumber(section: Section, key: string, where: string, fallback: number): number {
  const value = section[key] ?? fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new ConfigError(`${where}.${key} must be a positive number`);
  return value;
}

function parseRule(value: unknown, index: number): AccessRule {
  const where = `auth.access[${index}]`;
  const rule = mapping(value, where);
  const repository = optionalString(rule, 'repository', where);
  if (!repository) throw new ConfigError(`${where} needs a repository glob`);
  const actions = stringList(rule.actions, `${where}.actions`);
  const unknown = actions.find((action) => !ACTIONS.includes(action));
  if (unknown !== undefined) throw new ConfigError(`${where}.actions: unknown action "${unknown}" (want pull, push, delete)`);
  return { repository, users: stringList(rule.users, `${where}.users`), groups: stringList(rule.groups, `${where}.groups`), actions: actions as RuleAction[] };
}

function parseGroups(value: unknown): Record<string, string[]> {
  const groups = mapping(value, 'auth.groups');
  return Object.fromEntries(Object.entries(groups).map(([name, members]) => [name, stringList(members, `auth.groups.${name}`)]));
}

function parseToken(value: unknown): TokenConfig {
  const token = mapping(value, 'auth.token');
  const where = 'auth.token';
  const config: TokenConfig = {
    realm: optionalString(token, 'realm', where),
    service: optionalString(token, 'service', where) ?? 'berth',
    issuer: optionalString(token, 'issuer', where) ?? 'berth',
    key: optionalString(token, 'key', where) ?? DEFAULT_TOKEN_KEY,
    expiresInSeconds: positiveNumber(token, 'expiresIn', where, 300),
    jwks: optionalString(token, 'jwks', where),
    publicKey: optionalString(token, 'publicKey', where),
  };
  if ((config.jwks || config.publicKey) && !config.realm) throw new ConfigError('auth.token.realm is required with an external issuer (jwks or publicKey)');
  return config;
}

/** Reads the `auth` section of the config file; absent means mode `none`. */
export function parseAuthConfig(value: unknown): AuthConfig {
  const auth = mapping(value, 'auth');
  const mode = auth.mode ?? 'none';
  if (mode !== 'none' && mode !== 'htpasswd' && mode !== 'token') throw new ConfigError(`auth.mode must be none, htpasswd or token, not "${String(mode)}"`);
  const htpasswd = optionalString(auth, 'htpasswd', 'auth');
  const token = parseToken(auth.token);
  const external = Boolean(token.jwks || token.publicKey);
  if (mode === 'htpasswd' && !htpasswd) throw new ConfigError('auth.htpasswd is required in htpasswd mode');
  if (mode === 'token' && !external && !htpasswd) throw new ConfigError('auth.htpasswd is required in token mode with the built-in token endpoint');
  const rateLimit = mapping(auth.rateLimit, 'auth.rateLimit');
  return {
    mode,
    htpasswd,
    realm: optionalString(auth, 'realm', 'auth') ?? 'Berth Registry',
    groups: parseGroups(auth.groups),
    access: (Array.isArray(auth.access) ? auth.access : stringList(auth.access, 'auth.access')).map(parseRule),
    token,
    rateLimit: {
      attempts: positiveNumber(rateLimit, 'attempts', 'auth.rateLimit', 5),
      windowSeconds: positiveNumber(rateLimit, 'windowSeconds', 'auth.rateLimit', 60),
    },
  };
}
