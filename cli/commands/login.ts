import type { Command } from 'commander';
import { dockerConfigPath, writeCredentials } from '../../client/credentials.ts';
import { createHttp } from '../../client/http.ts';
import { RegistryClient } from '../../client/registry-client.ts';
import { report, withClientFlags, type ClientFlags } from '../client-options.ts';

interface LoginFlags extends ClientFlags {
  username: string;
  password?: string;
  passwordStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerLogin(program: Command): void {
  const command = program
    .command('login')
    .description('check credentials against a registry and store them in the docker config file (~/.docker/config.json)')
    .argument('<registry>', 'host[:port]')
    .requiredOption('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (visible to other users of this machine: prefer --password-stdin or BERTH_PASSWORD)')
    .option('--password-stdin', 'read the password from standard input');
  withClientFlags(command).action(async (registry: string, flags: LoginFlags) => {
    const password = flags.passwordStdin ? await readStdin() : (flags.password ?? process.env.BERTH_PASSWORD);
    if (!password) throw new Error('no password: give --password-stdin, --password or BERTH_PASSWORD');
    const credentials = { username: flags.username, password };
    const client = new RegistryClient(registry, { http: createHttp(), insecure: Boolean(flags.insecure), credentials: async () => credentials });
    await client.ping();
    await writeCredentials(registry, credentials);
    report(flags, { registry, username: flags.username, config: dockerConfigPath() }, () => `logged in to ${registry} as ${flags.username} (saved in ${dockerConfigPath()})`);
  });
}
