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

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** The users of an htpasswd file, re-read when the file changes (so `berth user add` needs no restart). */
export class Htpasswd {
  private users = new Map<string, string>();
  private loadedMtime = -1;

  constructor(readonly path: string) {}

  private async refresh(): Promise<void> {
    const mtime = (await stat(this.path)).mtimeMs;
    if (mtime === this.loadedMtime) return;
    this.users = parseHtpasswd(await readFile(this.path, 'utf8'));
    this.loadedMtime = mtime;
  }

  /** Checks the file can be read, at startup. */
  async load(): Promise<void> {
    await this.refresh();
  }

  /** bcrypt's comparison is constant-time; unknown users are compared against a dummy hash. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.refresh();
    const hash = this.users.get(user);
    const matches = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    return matches && hash !== undefined;
  }
}
