import type { Command } from 'commander';
import { collectGarbage, GC_DEFAULTS, type GarbageBlob, type GcReport } from '../../storage/gc/gc.ts';
import { formatBytes } from '../format-bytes.ts';
import { formatDuration } from '../duration.ts';
import { gcPlanOptions, gcSettings, gracePeriodNote, type GcFlags } from '../gc-settings.ts';
import { writeJson } from '../json-writer.ts';
import { openStore, type StoreFlags } from '../open-store.ts';

interface GcCommandFlags extends StoreFlags, GcFlags {
  dryRun?: boolean;
  json?: boolean;
}

/** "blob sha256:… (1.00 MiB) of app@sha256:…", or that no image is left to tell (an upload never named, a manifest swept earlier). */
function blobLine(blob: GarbageBlob): string {
  return `blob ${blob.digest} (${formatBytes(blob.size)})${blob.images.length ? ` of ${blob.images.join(', ')}` : ', no remaining image'}`;
}

function summary(report: GcReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [
    ...report.blobs.map((blob) => `${verb} ${blobLine(blob)}`),
    ...report.revisions.map((revision) => `${verb} untagged manifest ${revision.repository}@${revision.digest}`),
    ...report.uploads.map((upload) => `${verb} upload ${upload.repository}/${upload.id} (${formatBytes(upload.size)})`),
    `${report.dryRun ? 'would free' : 'freed'} ${formatBytes(report.blobBytes + report.uploadBytes)} (${report.blobBytes + report.uploadBytes} bytes) now: ` +
      `${report.blobs.length} blobs, ${report.uploads.length} uploads, ${report.revisions.length} untagged manifests`,
  ];
  if (report.youngBlobs.length) {
    lines.push(
      `kept ${formatBytes(report.youngBlobBytes)} (${report.youngBlobBytes} bytes) in ${report.youngBlobs.length} unreferenced blobs younger than ` +
        `${gracePeriodNote(report.gracePeriodMs)}: gc leaves them alone in case a push in progress is about to name them, and frees them once they are older`,
      ...report.youngBlobs.map((blob) => `  kept ${blobLine(blob)}`),
    );
  }
  if (report.restored.length) lines.push(`kept ${report.restored.length} blobs a concurrent push linked again`);
  const { staleWrites } = report;
  if (staleWrites.count) {
    lines.push(
      `${verb} ${staleWrites.count} leftovers of interrupted writes (temp files, multipart uploads): ${formatBytes(staleWrites.bytes)} (${staleWrites.bytes} bytes)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerGc(program: Command): void {
  const command = program
    .command('gc')
    .description('delete blobs nothing references, stale uploads and leftovers of interrupted writes (mark and sweep; safe while the registry serves)')
    .option('--storage <dir|s3://bucket/prefix>', 'the registry root (env BERTH_STORAGE, default as for serve)')
    .option('--config <file>', 'YAML config file, as for serve; its gc: section sets the durations (env BERTH_CONFIG)')
    .option('--dry-run', 'print what would go, the images it belonged to, and how many bytes; delete nothing');
  gcPlanOptions(command)
    .option('--settle <duration>', `wait for in-flight manifest pushes before deleting (config gc.settle, default ${formatDuration(GC_DEFAULTS.settleMs)})`)
    .option('--json', 'print the report as JSON')
    .action(async (flags: GcCommandFlags) => {
      const { store, file, close } = await openStore(flags);
      try {
        const report = await collectGarbage(store, {
          ...gcSettings(flags, file),
          dryRun: flags.dryRun ?? false,
          log: (line) => console.error(line),
        });
        if (flags.json) await writeJson(process.stdout, report);
        else process.stdout.write(summary(report));
      } finally {
        await close();
      }
    });
}
