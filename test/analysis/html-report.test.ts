import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { formatBytes } from '../../cli/format-bytes.ts';
import type { AnalysisReport } from '../../analysis/analysis.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { pushLayerFixture } from '../helpers/layer-fixture.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { pushSharedFixture } from '../helpers/shared-fixture.ts';

const CLI = join(import.meta.dirname, '../../cli/main.ts');

describe('berth analyze --html in a real browser', needs('chromium'), () => {
  let berth: RunningBerth;
  let scratch: string;
  let report: AnalysisReport;
  let browser: BrowserContext;
  const page = () => join(scratch, 'report.html');

  before(async () => {
    berth = await startBerth();
    const api = new RegistryAPI(berth.url);
    await pushSharedFixture(api);
    await pushLayerFixture(api);
    scratch = await mkdtemp(join(tmpdir(), 'berth-html-'));
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      CLI,
      'analyze',
      '--storage',
      berth.root,
      '--deep',
      '--json',
      '--html',
      page(),
    ]);
    report = JSON.parse(stdout) as AnalysisReport;
    browser = await launchChromium(join(scratch, 'profile'));
  });
  after(async () => {
    await browser?.close();
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('is one self-contained page', async () => {
    const html = await readFile(page(), 'utf8');
    assert.doesNotMatch(html, /<(?:link|img|iframe)\b|<script\b(?![^>]*application\/json)|src=|@import|url\(/i);
  });

  it('renders the charts and the report numbers, fetching nothing', async () => {
    const tab = await browser.newPage();
    const requests: string[] = [];
    tab.on('request', (request) => requests.push(request.url()));
    await tab.goto(`file://${page()}`);
    assert.deepEqual(requests, [`file://${page()}`]);

    assert.equal(await tab.locator('#overview-chart rect').count(), 4, 'logical, and physical in three parts');
    const repositoryBars = await tab.locator('#repository-chart rect').count();
    assert.equal(repositoryBars, 2 * report.repositories.length, 'a unique and a shared bar per repository');
    const width = await tab.locator('#repository-chart').evaluate((svg) => svg.getBoundingClientRect().width);
    assert.ok(width > 600, `chart is ${width}px wide`);
    assert.equal(await tab.locator('#shared-chart rect').count(), Math.min(10, report.topSharedBlobs.length));
    assert.ok((await tab.locator('#waste-chart rect').count()) >= 1, 'the waste chart draws at least one bar');

    const cards = await tab.locator('.card').allInnerTexts();
    assert.ok(
      cards.some((text) => text.includes(formatBytes(report.logicalBytes))),
      'logical size shown',
    );
    assert.ok(
      cards.some((text) => text.includes(formatBytes(report.physicalBytes))),
      'physical size shown',
    );
    assert.ok(
      cards.some((text) => text.includes(`${report.dedupRatio.toFixed(2)}×`)),
      'dedup ratio shown',
    );
    const rows = await tab.locator('#repositories tbody tr').allInnerTexts();
    assert.equal(rows.length, report.repositories.length);
    assert.match(await tab.locator('#files').innerText(), new RegExp(formatBytes(report.deep!.duplicateFileBytes).replace('.', '\\.')));

    await tab.screenshot({ path: join(tmpdir(), 'berth-analysis-report.png'), fullPage: true });
    await tab.close();
  });
});
