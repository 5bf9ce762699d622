import type { Command } from 'commander';
import { applyRetention } from '../../analysis/retention-apply.ts';
import type { RetentionSettings } from '../../analysis/retention-policy.ts';
import { planRetention } from '../../analysis/retention.ts';
import { collectGarbage } from '../../storage/gc/gc.ts';
import { gcSettings } from '../gc-settings.ts';
import { openStore, type StoreFlags } from '../open-store.ts';
import { renderRetentionPlan, renderRetentionResult } from '../retention-text.ts';
import { writeJson } from '../json-writer.ts';

/** Without a config file there is no policy: nothing to plan. */
const NO_POLICIES: RetentionSettings = { policies: [], immutableTags: [] };

interface RetentionFlags extends StoreFlags {
  json?: boolean;
  gc?: boolean;
}

function storeOptions(command: Command): Command {
  return command
    .option('--storage <dir|s3://bucket/prefix>', 'the registry root (env BERTH_STORAGE, default as for serve)')
    .option('--config <file>', 'YAML config file, as for serve: its retention: section holds the policies (env BERTH_CONFIG)')
    .option('--json', 'print the result as JSON');
}

export function registerRetention(program: Command): void {
  const retention = program
    .command('retention')
    .description('apply the config file’s retention policies (retention.policies), or see what they would delete and free');
  storeOptions(
    retention.command('plan').description('the dry run: per repository the tags and manifests that would go, and the bytes that would really be freed'),
  ).action(async (flags: RetentionFlags) => {
    const { store, file, close } = await openStore(flags);
    try {
      const plan = await planRetention(store, file?.retention ?? NO_POLICIES);
      if (flags.json) await writeJson(process.stdout, plan);
      else process.stdout.write(renderRetentionPlan(plan));
    } finally {
      await close();
    }
  });
  storeOptions(retention.command('apply').description('delete what the policies say (tags, then manifests); with --gc, then collect the garbage'))
    .option('--gc', 'run gc afterwards, with the config file’s gc: settings')
    .action(async (flags: RetentionFlags) => {
      const { store, file, close } = await openStore(flags);
      try {
        const settings = file?.retention ?? NO_POLICIES;
        const plan = await planRetention(store, settings);
        const result = await applyRetention(store, plan, settings);
        const gc = flags.gc ? await collectGarbage(store, { ...gcSettings({}, file), log: (line) => console.error(line) }) : undefined;
        if (flags.json) await writeJson(process.stdout, { plan, result, ...(gc ? { gc } : {}) });
        else {
          const freed = gc ? `gc freed ${gc.blobBytes + gc.uploadBytes} bytes\n` : '';
          process.stdout.write(renderRetentionPlan(plan, true) + renderRetentionResult(result) + freed);
        }
      } finally {
        await close();
      }
    });
}
