import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { clientCommand, clientFor, report, type ClientFlags } from '../client-options.ts';

export function registerTags(program: Command): void {
  const command = program.command('tags').description('list the tags of a repository, one a line').argument('<repo>', 'host[:port]/name');
  clientCommand(command, async (text: string, flags: ClientFlags) => {
    const reference = Reference.parse(text);
    const repository = `${reference.registry}/${reference.repository}`;
    const tags = await clientFor(reference.registry, flags).tags(reference.repository);
    // Standard output holds tags only, so `for tag in $(berth tags …)` sees none rather than a blank one.
    if (tags.length === 0 && !flags.json) console.error(`${repository} has no tags`);
    else report(flags, { repository, tags }, () => tags.join('\n'));
  });
}
