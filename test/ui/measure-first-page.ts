/**
 * How long the repositories page takes to show its first rows on a registry of many repositories
 * (issue 25: 10,000), in chromium against `berth serve`: a measurement to read, never a test.
 * Usage: node --import tsx test/ui/measure-first-page.ts [COUNT] [RUNS]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerthProcess } from '../helpers/berth.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { generatedName, writeRepositories } from './many-repositories.ts';

const count = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 5);
const scratch = await mkdtemp(join(tmpdir(), 'berth-ui-measure-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
try {
  let started = performance.now();
  await writeRepositories(join(scratch, 'root'), count);
  console.log(`wrote ${count} repositories in ${Math.round(performance.now() - started)} ms`);
  const berth = await startBerthProcess(['--storage', join(scratch, 'root'), '--workers', '1']);
  const browser = await launchChromium(join(scratch, 'profile'));
  try {
    const firstRows: number[] = [];
    for (let run = 0; run < runs; run++) {
      const tab = await browser.newPage();
      started = performance.now();
      await tab.goto(`${berth.url}/`);
      await tab.getByRole('link', { name: generatedName(0) }).waitFor();
      firstRows.push(performance.now() - started);
      await tab.close();
      // Past the catalog walk's reuse window, so each run but the first pays a walk, as a visitor after a while does.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    const api: number[] = [];
    for (let run = 0; run < runs; run++) {
      started = performance.now();
      await (await fetch(`${berth.url}/api/v1/repositories?n=50`)).json();
      api.push(performance.now() - started);
    }
    started = performance.now();
    for (;;) {
      const page = (await (await fetch(`${berth.url}/api/v1/repositories?n=1`)).json()) as { figuresAt?: string; computing: boolean };
      if (page.figuresAt && !page.computing) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    console.log(
      `first rows in the browser (navigation to the first link shown), ms: ${firstRows.map(Math.round).join(', ')}; median ${Math.round(median(firstRows))}`,
    );
    console.log(`GET /api/v1/repositories?n=50 back to back, ms: ${api.map(Math.round).join(', ')}; median ${Math.round(median(api))}`);
    console.log(`background figures for all ${count} repositories ready ${Math.round(performance.now() - started)} ms after the timings above`);
  } finally {
    await browser.close();
    await berth.stop();
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
