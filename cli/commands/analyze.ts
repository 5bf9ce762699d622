import { writeFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { InvalidArgumentError, type Command } from 'commander';
import { gcPlanOptions, gcSettings, type GcFlags } from '../gc-settings.ts';
import { writeJson } from '../json-writer.ts';
import { openStore, type StoreFlags } from '../open-store.ts';

interface AnalyzeFlags extends StoreFlags, GcFlags {
  json?: boolean;
  html?: string;
  deep?: boolean;
  verbose?: boolean;
  top: number;
}

function count(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('want a whole number');
  return value;
}

export function registerAnalyze(program: Command): void {
  const command = program
    .command('analyze')
    .description('report what the images really take: logical vs physical bytes, sharing, reclaimable space (read-only)')
    .option('--storage <dir|s3://bucket/prefix>', 'the registry root (env BERTH_STORAGE, default as for serve)')
    .option('--config <file>', 'YAML config file, as for serve; its gc: section decides what gc would free (env BERTH_CONFIG)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .option('--deep', 'open every layer: file-level duplicates and space wasted by overwritten or deleted files')
    .option('--verbose', 'with --deep, list each layer that could not be scanned and why')
    .option('--top <n>', 'how many shared blobs and duplicate files to list', count, 20);
  // What gc would free depends on gc's settings: the same flags as `berth gc`, so both print the same figures.
  gcPlanOptions(command).action(async (flags: AnalyzeFlags) => {
    // The walk makes short-lived objects by the million, and V8 doubled its young generation up to
    // 32 MiB as it went: a quarter of the peak at 5,000 repositories (118 MiB; 92-96 held at its first
    // size, the same CPU, issue 29). Its maximum is read only at start-up, the growth factor at each growth.
    setFlagsFromString('--semi-space-growth-factor=1');
    // The analysis and its layer scan (tar, zstd) load when it runs, not whenever `berth --help` lists the commands.
    const [{ analyze }, { renderHtmlReport }, { renderTextReport }] = await Promise.all([
      import('../../analysis/analysis.ts'),
      import('../analysis-html.ts'),
      import('../analysis-text.ts'),
    ]);
    const { store, file, close } = await openStore(flags);
    try {
      const { gracePeriodMs, uploadMaxAgeMs, deleteUntagged } = gcSettings(flags, file);
      const mirrors = (file?.mirror.upstreams ?? []).map((upstream) => upstream.name);
      const report = await analyze(store, { deep: flags.deep ?? false, top: flags.top, gracePeriodMs, uploadMaxAgeMs, deleteUntagged, mirrors });
      if (flags.html) await writeFile(flags.html, renderHtmlReport(report));
      if (flags.json) await writeJson(process.stdout, report);
      else process.stdout.write(renderTextReport(report, { verbose: flags.verbose ?? false }));
    } finally {
      await close();
    }
  });
}
