import type { Command } from 'commander';
import { hashPassword, readHtpasswdFile, writeHtpasswdFile } from '../../registry/auth/htpasswd.ts';
import { readPassword } from '../prompt.ts';

const USER_NAME = /^[^:\s]+$/;

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage the users of an htpasswd file (bcrypt)');
  user
    .command('add')
    .description(
      'add a user or change their password (at most 72 bytes: bcrypt ignores the rest): asked twice without echo on a terminal, else the first line of standard input',
    )
    .argument('<name>')
    .requiredOption('--htpasswd <file>', 'the htpasswd file (created if missing)')
    .action(async (name: string, options: { htpasswd: string }) => {
      if (!USER_NAME.test(name)) throw new Error(`invalid user name "${name}" (no colons or spaces)`);
      const users = await readHtpasswdFile(options.htpasswd);
      const existed = users.has(name);
      users.set(name, await hashPassword(await readPassword(`Password for ${name}: `, { confirm: true })));
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
