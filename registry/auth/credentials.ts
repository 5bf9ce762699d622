import { RegistryError } from '../errors.ts';
import type { Htpasswd } from './htpasswd.ts';
import type { LoginRateLimit } from './rate-limit.ts';
import { authCounts } from '../metrics/auth-counts.ts';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** The user and password of an `Authorization: Basic …` header. */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Password checks against the htpasswd file, with failures rate-limited per user and address.
 * Each refused login is logged, so an operator sees guessing (and a user's typo) as it happens:
 * one line with the user name (quoted, as a client sent it) and the address, never the password.
 */
export class Logins {
  constructor(
    readonly users: Htpasswd,
    private readonly limit: LoginRateLimit,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * The fingerprint of the user's htpasswd entry (see Htpasswd) when the credentials are right,
   * undefined when wrong; throws 429 while the user is locked out from `address`.
   */
  async verify({ user, password }: BasicCredentials, address: string): Promise<string | undefined> {
    const who = `user ${JSON.stringify(user)} from ${address || 'an unknown address'}`;
    try {
      const entry = await this.limit.attempt(user, address, () => this.users.verify(user, password));
      if (entry === undefined) {
        authCounts.failedLogins++;
        this.log(`failed login: ${who}: wrong password or no such user`);
      }
      return entry;
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'TOOMANYREQUESTS') {
        authCounts.rateLimited++;
        this.log(`refused login: ${who}: ${error.message}`);
      }
      throw error;
    }
  }
}
