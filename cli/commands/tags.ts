import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { clientFor, report, withClientFlags, type ClientFlags } from '../client-options.ts';

export function registerTags(program: Command): void {
  const command = program.command('tags').description('list the tags of a repository').argument('<repo>', 'host[:port]/name');
  withClientFlags(command).action(async (text: string, flags: ClientFlags) => {
    const reference = Reference.parse(text);
    const tags = await clientFor(reference.registry, flags).tags(reference.repository);
    report(flags, { repository: `${reference.registry}/${reference.repository}`, tags }, () => tags.join('\n'));
  });
}
