import type { RetentionPlan } from '../analysis/retention.ts';
import type { AnalysisReport } from '../analysis/analysis.ts';
import { skippedLayersSummary } from './analysis-skipped.ts';
import { formatBytes } from './format-bytes.ts';
import { gracePeriodNote } from './gc-settings.ts';

/** A repository's row, as the text and the HTML reports both show it. */
export function repositoryCells(r: AnalysisReport['repositories'][number]): string[] {
  return [r.name, `${r.tags}`, `${r.images}`, `${r.manifests}`, formatBytes(r.logicalBytes), formatBytes(r.uniqueBytes), formatBytes(r.sharedBytes)];
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(header: string[], rows: string[][], rightAligned: number[]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function shortDigest(digest: string): string {
  return digest.replace(/^(\w+:)([0-9a-f]{12})[0-9a-f]+$/, '$1$2');
}

/**
 * What gc would free, in the figures `berth gc --dry-run` prints with the same settings (both come
 * from gc's plan): now, and once the unreferenced blobs still within the grace period are older.
 */
function reclaimableLines({ gc }: AnalysisReport): string[] {
  const how = gc.deleteUntagged ? ' (with --delete-untagged)' : '';
  return [
    `  gc would free ${formatBytes(gc.now.bytes)} now${how}: ${formatBytes(gc.now.blobBytes)} in ${gc.now.blobs} unreferenced blobs` +
      ` and ${formatBytes(gc.now.uploadBytes)} in ${gc.now.uploads} stale uploads (the figure of \`berth gc --dry-run\`)`,
    ...(gc.afterGracePeriod.blobs
      ? [
          `  and ${formatBytes(gc.afterGracePeriod.bytes)} more after the grace period: ${gc.afterGracePeriod.blobs} unreferenced blobs are younger than ` +
            `${gracePeriodNote(gc.gracePeriodMs)}: gc leaves them alone in case a push in progress is about to name them`,
        ]
      : []),
  ];
}

/** The last scheduled retention plan in one line: what the policies would free, and where. */
function retentionLine(plan: RetentionPlan): string {
  const where = plan.repositories.map((repository) => `${repository.name} (${repository.tags.length} tags, ${repository.manifests.length} manifests)`);
  return `  retention (last plan, ${plan.plannedAt}) would free ${formatBytes(plan.bytesFreed)}${where.length ? `: ${where.join(', ')}` : ''}`;
}

/** The terminal report of `berth analyze`; `verbose` lists each layer `--deep` skipped. */
export function renderTextReport(report: AnalysisReport, { verbose = false } = {}): string {
  const sections: string[] = [];
  sections.push(
    [
      `Storage ${report.storage}`,
      `  logical ${formatBytes(report.logicalBytes)} (every image as if stored alone)`,
      `  physical ${formatBytes(report.physicalBytes)} in ${report.blobCount} blobs, dedup ratio ${report.dedupRatio.toFixed(2)}x`,
      ...reclaimableLines(report),
      ...(report.missingBlobs ? [`  ${report.missingBlobs} referenced blobs are missing from the store`] : []),
      ...(report.retention ? [retentionLine(report.retention)] : []),
    ].join('\n'),
  );
  sections.push(
    table(['REPOSITORY', 'TAGS', 'IMAGES', 'MANIFESTS', 'LOGICAL', 'UNIQUE', 'SHARED'], report.repositories.map(repositoryCells), [1, 2, 3, 4, 5, 6]),
  );
  if (report.mirrors?.length) {
    sections.push(
      'Mirrors (pull-through cache)\n' +
        table(
          ['UPSTREAM', 'REPOS', 'IMAGES', 'STORED', 'UNIQUE', 'SAVED'],
          report.mirrors.map((m) => [
            m.name,
            `${m.repositories}`,
            `${m.images}`,
            formatBytes(m.storedBytes),
            formatBytes(m.uniqueBytes),
            formatBytes(m.savedBytes),
          ]),
          [1, 2, 3, 4, 5],
        ),
    );
  }
  if (report.topSharedBlobs.length) {
    sections.push(
      'Most shared blobs\n' +
        table(
          ['DIGEST', 'SIZE', 'IMAGES', 'REPOS', 'SAVED', 'MEDIA TYPE'],
          report.topSharedBlobs.map((b) => [
            shortDigest(b.digest),
            formatBytes(b.size),
            `${b.images}`,
            `${b.repositories}`,
            formatBytes(b.bytesSaved),
            b.mediaType,
          ]),
          [1, 2, 3, 4],
        ),
    );
  }
  const deep = report.deep;
  if (deep) {
    const skipped = skippedLayersSummary(deep, verbose ? 'each below' : 'each with --verbose or in --json');
    sections.push(
      [
        `Files (${deep.layersScanned} layers scanned, ${deep.layersSkipped.length} skipped, ${deep.filesHashed} files, ${formatBytes(deep.fileBytes)})`,
        `  file-level dedup would save ${formatBytes(deep.duplicateFileBytes)} more${deep.truncated ? ' (at least: too many files to track all)' : ''}`,
        `  files overwritten or deleted by later layers: ${formatBytes(deep.wastedBytes)} over all images`,
        ...(skipped ? [`  ${skipped}`] : []),
        ...(verbose ? deep.layersSkipped.map((layer) => `    not scanned ${layer.digest} (${layer.mediaType}): ${layer.reason}`) : []),
      ].join('\n'),
    );
    if (deep.topDuplicateFiles.length) {
      sections.push(
        'Most duplicated files\n' +
          table(
            ['PATH', 'SIZE', 'COPIES', 'SAVED'],
            deep.topDuplicateFiles.map((f) => [f.path, formatBytes(f.size), `${f.copies}`, formatBytes(f.bytesSaved)]),
            [1, 2, 3],
          ),
      );
    }
    const wasteful = deep.images.filter((image) => image.wastedBytes > 0);
    if (wasteful.length) {
      sections.push(
        'Wasted space per image\n' +
          table(
            ['IMAGE', 'WASTED', 'FILES'],
            wasteful.map((image) => [`${image.repository}:${image.tags.join(',')}`, formatBytes(image.wastedBytes), `${image.wastedFiles}`]),
            [1, 2],
          ),
      );
    }
  }
  return sections.join('\n\n') + '\n';
}
