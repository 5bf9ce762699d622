import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import type { RepositoryPage } from '../../registry/ui/repository-list.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { needs } from '../helpers/peers.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { generatedName, writeRepositories } from './many-repositories.ts';

const COUNT = 3000;

describe(`the repositories page on a registry of ${COUNT} repositories`, needs('chromium'), () => {
  let scratch: string;
  let berth: RunningBerth;
  let browser: BrowserContext;
  const pages: RepositoryPage[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-ui-scale-'));
    await writeRepositories(join(scratch, 'root'), COUNT);
    berth = await startBerth({ root: join(scratch, 'root') });
    browser = await launchChromium(join(scratch, 'profile'));
    browser.on('response', async (response) => {
      if (new URL(response.url()).pathname === '/api/v1/repositories') pages.push((await response.json()) as RepositoryPage);
    });
  });
  after(async () => {
    await browser?.close();
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('loads one page at a time, pages on, and searches on the server', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/`);
    const table = tab.getByRole('table', { name: 'Repositories' });
    await table.getByRole('link', { name: generatedName(0) }).waitFor();
    assert.equal(await table.getByRole('link').count(), 50, 'the first page shows 50 repositories');
    await tab.getByText(`${COUNT} repositories.`, { exact: false }).waitFor();
    // The page refreshes itself until the background figures are in: a search being typed meanwhile stays.
    const search = tab.getByLabel('Search repositories');
    await search.pressSequentially('app-0299');
    await tab.getByText(/Sizes as of/).waitFor({ timeout: 120_000 });
    assert.equal(await search.inputValue(), 'app-0299');
    assert.equal(await tab.evaluate(() => document.activeElement?.id), 'search', 'the search box keeps the focus');
    await search.clear();

    await tab.getByRole('link', { name: 'Next page' }).click();
    // Names sort as text: the first page holds group-0's first 50 (every tenth number), the next one goes on from 500.
    await table.getByRole('link', { name: generatedName(500) }).waitFor();
    await tab.getByRole('link', { name: 'First page' }).waitFor();

    await tab.getByLabel('Search repositories').fill('app-02999');
    await tab.getByLabel('Search repositories').press('Enter');
    await tab
      .getByRole('table', { name: 'Repositories matching “app-02999”' })
      .getByRole('link', { name: generatedName(2999) })
      .waitFor();

    assert.ok(pages.length >= 3, `the page asked the server for each page (${pages.length} answers)`);
    for (const page of pages) assert.ok(page.repositories.length <= 50, `an answer held ${page.repositories.length} repositories, not the catalog`);
    assert.equal(pages[0]!.matched, COUNT);
    await tab.close();
  });
});
