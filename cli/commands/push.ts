import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { push } from '../../client/push.ts';
import type { PushResult } from '../../client/push.ts';
import { clientCommand, clientFor, openLocalStore, progressFor, report, withStoreFlag, type ClientFlags } from '../client-options.ts';
import { formatBytes } from '../format-bytes.ts';

interface PushFlags extends ClientFlags {
  from?: string;
}

/** The human summary of a push or copy. */
export function transferSummary(verb: string, result: PushResult): string {
  const line = (label: string, counts: { blobs: number; bytes: number }) =>
    `${label} ${counts.blobs} blobs, ${formatBytes(counts.bytes)} (${counts.bytes} bytes)`;
  return [
    `${verb} ${result.reference} (${result.digest})`,
    [line('uploaded', result.uploaded), line('mounted', result.mounted), line('already there', result.existing)].join('; '),
  ].join('\n');
}

export function registerPush(program: Command): void {
  const command = program
    .command('push')
    .description('push an image from the local OCI image layout, uploading only what the registry lacks')
    .argument('<ref>', 'host[:port]/name[:tag|@digest]')
    .option('--from <name>', 'the image’s name in the store (its org.opencontainers.image.ref.name), when not REF itself');
  clientCommand(withStoreFlag(command), async (text: string, flags: PushFlags) => {
    const reference = Reference.parse(text);
    const result = await push(clientFor(reference.registry, flags), reference, {
      store: await openLocalStore(flags),
      ...(flags.from ? { from: flags.from } : {}),
      progress: await progressFor(flags),
    });
    report(flags, result, () => transferSummary('pushed', result));
  });
}
