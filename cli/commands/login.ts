import type { Command } from 'commander';
import { dockerConfigPath, writeCredentials } from '../../client/credentials.ts';
import { clientCommand, clientFor, report, type ClientFlags } from '../client-options.ts';
import { ask, canPrompt, readStdinLine } from '../prompt.ts';

interface LoginFlags extends ClientFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

/** The user name from -u, else asked on a terminal, as `docker login` does. */
async function username(flags: LoginFlags): Promise<string> {
  if (flags.username) return flags.username;
  if (canPrompt()) return ask('Username: ', { echo: true });
  throw new Error('no user name: give -u USER');
}

/** The password from standard input when told, -p or BERTH_PASSWORD, else asked without echo on a terminal. */
async function password(flags: LoginFlags, user: string, registry: string): Promise<string> {
  if (flags.passwordStdin) return readStdinLine();
  const given = flags.password ?? process.env.BERTH_PASSWORD;
  if (given) return given;
  if (canPrompt()) return ask(`Password for ${user} at ${registry}: `, { echo: false });
  throw new Error('no password: give --password-stdin, --password or BERTH_PASSWORD, or run on a terminal to be asked');
}

export function registerLogin(program: Command): void {
  const command = program
    .command('login')
    .description('check credentials against a registry and store them in the docker config file (~/.docker/config.json)')
    .argument('<registry>', 'host[:port]')
    .option('-u, --username <user>', 'user name (asked on a terminal when not given)')
    .option('-p, --password <password>', 'password (visible to other users of this machine: prefer being asked, --password-stdin or BERTH_PASSWORD)')
    .option('--password-stdin', 'read the password from standard input');
  clientCommand(command, async (registry: string, flags: LoginFlags) => {
    const user = await username(flags);
    const secret = await password(flags, user, registry);
    if (!secret) throw new Error('empty password');
    const credentials = { username: user, password: secret };
    await clientFor(registry, flags, credentials).ping();
    await writeCredentials(registry, credentials);
    report(flags, { registry, username: user, config: dockerConfigPath() }, () => `logged in to ${registry} as ${user} (saved in ${dockerConfigPath()})`);
  });
}
