import type { Command } from 'commander';
import { hashPassword, readHtpasswdFile, writeHtpasswdFile } from '../../registry/auth/htpasswd.ts';

const USER_NAME = /^[^:\s]+$/;

/** The password from standard input: its first line, without the line break. */
async function readPassword(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const password = text.split(/\r?\n/)[0] ?? '';
  if (!password) throw new Error('no password on standard input');
  return password;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage the users of an htpasswd file (bcrypt)');
  user
    .command('add')
    .description('add a user or change their password; the password (at most 72 bytes: bcrypt ignores the rest) is read from standard input')
    .argument('<name>')
    .requiredOption('--htpasswd <file>', 'the htpasswd file (created if missing)')
    .action(async (name: string, options: { htpasswd: string }) => {
      if (!USER_NAME.test(name)) throw new Error(`invalid user name "${name}" (no colons or spaces)`);
      const users = await readHtpasswdFile(options.htpasswd);
      const existed = users.has(name);
      users.set(name, await hashPassword(await readPassword()));
      await writeHtpasswdFile(options.htpasswd, users);
      console.log(`${existed ? 'updated' : 'added'} ${name}`);
    });
  user
    .command('remove')
    .description('remove a user')
    .argument('<name>')
    .requiredOption('--htpasswd <file>', 'the htpasswd file')
    .action(async (name: string, options: { htpasswd: string }) => {
      const users = await readHtpasswdFile(options.htpasswd);
      if (!users.delete(name)) throw new Error(`no user "${name}" in ${options.htpasswd}`);
      await writeHtpasswdFile(options.htpasswd, users);
      console.log(`removed ${name}`);
    });
  user
    .command('list')
    .description('list the user names')
    .requiredOption('--htpasswd <file>', 'the htpasswd file')
    .action(async (options: { htpasswd: string }) => {
      for (const name of (await readHtpasswdFile(options.htpasswd)).keys()) console.log(name);
    });
}
