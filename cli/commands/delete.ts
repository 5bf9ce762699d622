import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { clientFor, report, withClientFlags, type ClientFlags } from '../client-options.ts';

export function registerDelete(program: Command): void {
  const command = program
    .command('delete')
    .description('delete a manifest from a registry (a tag is resolved to its digest first; every tag on it goes)')
    .argument('<ref>', 'host[:port]/name[:tag|@digest]');
  withClientFlags(command).action(async (text: string, flags: ClientFlags) => {
    const reference = Reference.parse(text);
    const client = clientFor(reference.registry, flags);
    const digest = reference.digest ?? (await client.headManifest(reference.repository, reference.manifestReference))?.digest;
    if (!digest) throw new Error(`${reference} does not exist`);
    await client.deleteManifest(reference.repository, digest);
    report(flags, { deleted: `${reference.registry}/${reference.repository}@${digest}` }, () => `deleted ${reference.registry}/${reference.repository}@${digest}`);
  });
}
