import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { copy } from '../../client/copy.ts';
import { parsePlatform } from '../../client/platform.ts';
import { clientCommand, clientFor, progressFor, report, type ClientFlags } from '../client-options.ts';
import { transferSummary } from './push.ts';

interface CopyFlags extends ClientFlags {
  platform?: string;
}

export function registerCopy(program: Command): void {
  const command = program
    .command('copy')
    .description('copy an image from one registry or repository to another, streamed (mounted within one registry)')
    .argument('<src>', 'source host[:port]/name[:tag|@digest]')
    .argument('<dst>', 'destination host[:port]/name[:tag]')
    .option('--platform <os/arch[/variant]|all>', 'copy only this platform of an index; a single image must be of it', 'all');
  clientCommand(command, async (sourceText: string, targetText: string, flags: CopyFlags) => {
    const from = Reference.parse(sourceText);
    const to = Reference.parse(targetText);
    const result = await copy(clientFor(from.registry, flags), from, clientFor(to.registry, flags), to, {
      platform: parsePlatform(flags.platform),
      progress: await progressFor(flags),
    });
    report(flags, result, () => transferSummary(`copied ${result.source} to`, result));
  });
}
