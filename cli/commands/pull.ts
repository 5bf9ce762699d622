import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { parsePlatform } from '../../client/platform.ts';
import { DEFAULT_PULL_CONCURRENCY, pull } from '../../client/pull.ts';
import { clientCommand, clientFor, openLocalStore, positiveInteger, progressFor, report, withStoreFlag, type ClientFlags } from '../client-options.ts';
import { formatBytes } from '../format-bytes.ts';

interface PullFlags extends ClientFlags {
  platform?: string;
  concurrency?: number;
}

export function registerPull(program: Command): void {
  const command = program
    .command('pull')
    .description('pull an image into the local OCI image layout, fetching only the blobs it lacks')
    .argument('<ref>', 'host[:port]/name[:tag|@digest]')
    .option('--platform <os/arch[/variant]|all>', 'which image of a multi-platform index (default: linux and this machine’s architecture)')
    .option('--concurrency <n>', `parallel blob downloads (default ${DEFAULT_PULL_CONCURRENCY})`, positiveInteger);
  clientCommand(withStoreFlag(command), async (text: string, flags: PullFlags) => {
    const reference = Reference.parse(text);
    const store = await openLocalStore(flags);
    const result = await pull(clientFor(reference.registry, flags), reference, {
      store,
      platform: parsePlatform(flags.platform),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      progress: await progressFor(flags),
    });
    report(flags, { ...result, store: store.dir }, () =>
      [
        `pulled ${result.reference} (${result.digest}) into ${store.dir} as ${result.name}`,
        `fetched ${result.fetched.blobs} blobs, ${formatBytes(result.fetched.bytes)} (${result.fetched.bytes} bytes); ` +
          `already present ${result.present.blobs} blobs, ${formatBytes(result.present.bytes)} (${result.present.bytes} bytes)`,
      ].join('\n'),
    );
  });
}
