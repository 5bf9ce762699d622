import type { Command } from 'commander';
import { collectGarbage, GC_DEFAULTS, type GcReport } from '../../storage/gc.ts';
import { parseDuration } from '../duration.ts';
import { formatBytes } from '../format-bytes.ts';
import { openStore, type StoreFlags } from '../open-store.ts';

interface GcFlags extends StoreFlags {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  gracePeriod?: string;
  uploadMaxAge?: string;
  settle?: string;
  json?: boolean;
}

/** A duration from the flag, else the config file's `gc:` section, else the default. */
function duration(flag: string | undefined, section: Record<string, unknown>, key: string, fallback: number): number {
  const value = flag ?? section[key];
  return value === undefined ? fallback : parseDuration(String(value));
}

function summary(report: GcReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [
    ...report.blobs.map((blob) => `${verb} blob ${blob.digest} (${formatBytes(blob.size)})`),
    ...report.revisions.map((revision) => `${verb} untagged manifest ${revision.repository}@${revision.digest}`),
    ...report.uploads.map((upload) => `${verb} upload ${upload.repository}/${upload.id} (${formatBytes(upload.size)})`),
    `${report.dryRun ? 'would free' : 'freed'} ${formatBytes(report.blobBytes + report.uploadBytes)} (${report.blobBytes + report.uploadBytes} bytes): ` +
      `${report.blobs.length} blobs, ${report.uploads.length} uploads, ${report.revisions.length} untagged manifests`,
  ];
  if (report.youngBlobs) lines.push(`kept ${report.youngBlobs} unreferenced blobs younger than the grace period`);
  if (report.restored.length) lines.push(`kept ${report.restored.length} blobs a concurrent push linked again`);
  const { staleWrites } = report;
  if (staleWrites.count) {
    lines.push(`${verb} ${staleWrites.count} leftovers of interrupted writes (temp files, multipart uploads): ${formatBytes(staleWrites.bytes)} (${staleWrites.bytes} bytes)`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('delete blobs nothing references, stale uploads and leftovers of interrupted writes (mark and sweep; safe while the registry serves)')
    .option('--storage <dir|s3://bucket/prefix>', 'the registry root (env BERTH_STORAGE, default as for serve)')
    .option('--config <file>', 'YAML config file, as for serve; its gc: section sets the durations (env BERTH_CONFIG)')
    .option('--dry-run', 'print what would go and how many bytes, delete nothing')
    .option('--delete-untagged', 'untagged manifests are not roots: delete them and what only they reference')
    .option('--grace-period <duration>', `keep unreferenced blobs younger than this, and leftovers of writes idle for less (default ${GC_DEFAULTS.gracePeriodMs / 60_000}m)`)
    .option('--upload-max-age <duration>', `delete uploads idle longer than this (default ${GC_DEFAULTS.uploadMaxAgeMs / 3_600_000}h)`)
    .option('--settle <duration>', `wait for in-flight manifest pushes before deleting (default ${GC_DEFAULTS.settleMs / 1000}s)`)
    .option('--json', 'print the report as JSON')
    .action(async (flags: GcFlags) => {
      const { store, config, close } = await openStore(flags);
      const section = (config.file.gc ?? {}) as Record<string, unknown>;
      try {
        const report = await collectGarbage(store, {
          dryRun: flags.dryRun ?? false,
          deleteUntagged: flags.deleteUntagged ?? Boolean(section.deleteUntagged),
          gracePeriodMs: duration(flags.gracePeriod, section, 'gracePeriod', GC_DEFAULTS.gracePeriodMs),
          uploadMaxAgeMs: duration(flags.uploadMaxAge, section, 'uploadMaxAge', GC_DEFAULTS.uploadMaxAgeMs),
          settleMs: duration(flags.settle, section, 'settle', GC_DEFAULTS.settleMs),
          log: (line) => console.error(line),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
      } finally {
        await close();
      }
    });
}
