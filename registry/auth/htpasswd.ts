import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

/** Same cost as `htpasswd -B` and Distribution's examples. */
const BCRYPT_COST = 10;
/**
 * Compared against when the user is unknown, so a wrong name costs as much time as a wrong
 * password. A literal (of a throwaway string at BCRYPT_COST): hashing it at load time cost every
 * process, with or without auth, about 100 ms of start-up.
 */
const DUMMY_HASH = '$2b$10$fqhKcxMTasH3R90vy7Xnu.UzFn7zp6VkWZTY.2w0ZQA7ZRCrAs7mC';

/** `name:hash` lines; blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const colon = trimmed.indexOf(':');
    if (colon > 0) users.set(trimmed.slice(0, colon), trimmed.slice(colon + 1));
  }
  return users;
}

export function formatHtpasswd(users: Map<string, string>): string {
  return [...users].map(([name, hash]) => `${name}:${hash}\n`).join('');
}

export async function readHtpasswdFile(path: string): Promise<Map<string, string>> {
  try {
    return parseHtpasswd(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

/** Replaces the file atomically, readable by its owner only. */
export async function writeHtpasswdFile(path: string, users: Map<string, string>): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, formatHtpasswd(users), { mode: 0o600 });
  await rename(temporary, path);
}

/** bcrypt hashes only the first 72 bytes of a password; the rest would count for nothing. */
class PasswordTooLongError extends Error {
  constructor() {
    super('the password is longer than 72 bytes, and bcrypt would ignore every byte after the 72nd: choose a shorter one');
  }
}

export async function hashPassword(password: string): Promise<string> {
  if (bcrypt.truncates(password)) throw new PasswordTooLongError();
  return bcrypt.hash(password, BCRYPT_COST);
}

/**
 * Names one version of a user's entry: every `berth user add` hashes with a new salt, so a
 * password change (or a removal and re-add) changes it. Refresh tokens carry it to be revoked by
 * either. A digest of the bcrypt hash, which holds a random 128-bit salt, so the token's holder
 * learns nothing that helps guess the password.
 */
function fingerprintOf(hash: string): string {
  return createHash('sha256').update(hash).digest('base64url').slice(0, 22);
}

/** The users of an htpasswd file, re-read when the file changes (so `berth user add` needs no restart). */
export class Htpasswd {
  private users = new Map<string, string>();
  private loaded = '';

  constructor(readonly path: string) {}

  /**
   * Re-reads the file when its inode, size or mtime changed: a file replaced by a copy that kept
   * its mtime (`cp -p`, `rsync -t`) must not leave a removed user able to refresh tokens.
   */
  private async refresh(): Promise<void> {
    const { ino, size, mtimeMs } = await stat(this.path);
    const version = `${ino}:${size}:${mtimeMs}`;
    if (version === this.loaded) return;
    this.users = parseHtpasswd(await readFile(this.path, 'utf8'));
    this.loaded = version;
  }

  /** Checks the file can be read, at startup. */
  async load(): Promise<void> {
    await this.refresh();
  }

  /**
   * The fingerprint of `user`'s entry when `password` is theirs, else undefined: of the entry
   * compared against, however the file changes meanwhile. bcrypt's comparison is constant-time;
   * unknown users are compared against a dummy hash.
   */
  async verify(user: string, password: string): Promise<string | undefined> {
    await this.refresh();
    const hash = this.users.get(user);
    const matches = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    return matches && hash !== undefined ? fingerprintOf(hash) : undefined;
  }

  /** The fingerprint of `user`'s entry as the file stands now; undefined once the user is removed. */
  async fingerprint(user: string): Promise<string | undefined> {
    await this.refresh();
    const hash = this.users.get(user);
    return hash === undefined ? undefined : fingerprintOf(hash);
  }
}
