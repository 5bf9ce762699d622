import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { pushLayerFixture } from '../helpers/layer-fixture.ts';
import { needs } from '../helpers/peers.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { pushSharedFixture, type SharedFixture } from '../helpers/shared-fixture.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { pushImages, pushReferrer } from './ui-api.ts';

/** Where `BERTH_UI_SCREENSHOTS=1` has the run save the README's pictures of the pages. */
const SCREENSHOTS = join(import.meta.dirname, 'screenshots');

async function screenshot(tab: Page, name: string): Promise<void> {
  if (process.env.BERTH_UI_SCREENSHOTS !== '1') return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await tab.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Every form field of the page has a label a screen reader reads out, and the page has one h1. */
async function checkBasics(tab: Page): Promise<void> {
  const unlabelled = await tab
    .locator('input, select, textarea')
    .evaluateAll((fields) =>
      fields.filter((field) => (field as HTMLInputElement).labels?.length === 0 && !field.getAttribute('aria-label')).map((field) => field.outerHTML),
    );
  assert.deepEqual(unlabelled, [], 'every field has a label');
  assert.equal(await tab.locator('h1').count(), 1, 'one h1 names the page');
}

describe('the web interface in a real browser', needs('chromium'), () => {
  let berth: RunningBerth;
  let fixture: SharedFixture;
  let scratch: string;
  let browser: BrowserContext;
  const requests: string[] = [];

  before(async () => {
    berth = await startBerth();
    const api = new RegistryAPI(berth.url);
    fixture = await pushSharedFixture(api);
    await pushLayerFixture(api);
    await pushReferrer(api, 'app1', fixture.images.find((image) => image.repository === 'app1' && image.tags.includes('v1'))!.manifest);
    scratch = await mkdtemp(join(tmpdir(), 'berth-ui-'));
    browser = await launchChromium(join(scratch, 'profile'));
    browser.on('request', (request) => requests.push(request.url()));
  });
  after(async () => {
    await browser?.close();
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('lists the repositories with their sizes once computed, and searches', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/`);
    const table = tab.getByRole('table', { name: 'Repositories' });
    await table.getByRole('link', { name: 'app1' }).waitFor();
    // The figures arrive from a background run: the page asks again until they are there.
    await tab.getByText(/Sizes as of/).waitFor();
    const app1 = table.getByRole('row').filter({ has: tab.getByRole('link', { name: 'app1', exact: true }) });
    assert.match(await app1.innerText(), /\b3\b[\s\S]*KiB/, 'app1: 3 tags and its sizes');
    await checkBasics(tab);
    await screenshot(tab, 'repositories');

    await tab.getByLabel('Search repositories').fill('app');
    await tab.getByLabel('Search repositories').press('Enter');
    await tab.getByRole('table', { name: 'Repositories matching “app”' }).waitFor();
    const names = await tab.getByRole('table').getByRole('link').allInnerTexts();
    assert.deepEqual(names, ['app1', 'app2']);
    assert.ok(
      requests.some((url) => url.includes('/api/v1/repositories?q=app')),
      'the search ran on the server',
    );
    await tab.close();
  });

  it('moves between the rows of a list with the arrow keys', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/`);
    await tab.getByRole('link', { name: 'app1', exact: true }).focus();
    await tab.keyboard.press('ArrowDown');
    assert.equal(await tab.evaluate(() => document.activeElement?.textContent), 'app2');
    await tab.keyboard.press('End');
    assert.equal(await tab.evaluate(() => document.activeElement?.textContent), 'solo');
    await tab.keyboard.press('Enter');
    await tab.getByRole('heading', { level: 1, name: 'solo' }).waitFor();
    await tab.close();
  });

  it('opens a repository, an image, and a layer’s sharing', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/#/repository/app1`);
    const tags = tab.getByRole('table', { name: 'Tags of app1' });
    await tags.waitFor();
    assert.match(await tags.innerText(), /application\/vnd\.example\.sbom\.v1\+json/, 'the SBOM is listed under its subject');
    await checkBasics(tab);
    await screenshot(tab, 'repository');
    const v1 = tags.getByRole('row').filter({ has: tab.getByRole('rowheader', { name: 'v1' }) });
    await v1.getByRole('link').click();
    await tab.getByRole('heading', { level: 1, name: 'app1:v1' }).waitFor();
    const layers = tab.getByRole('table', { name: /3 layers/ });
    await layers.getByText('9.77 KiB').waitFor();
    await layers.getByText(/3 images in 3 repositories/).click();
    await layers.getByRole('link', { name: 'app2:v1' }).waitFor();
    assert.equal(await tab.getByLabel('docker').inputValue(), `docker pull ${berth.host}/app1:v1`);
    await tab.getByRole('heading', { name: 'History' }).waitFor();
    await checkBasics(tab);
    await screenshot(tab, 'image');
    await layers.getByRole('link', { name: 'app2:v1' }).click();
    await tab.getByRole('heading', { level: 1, name: 'app2:v1' }).waitFor();
    await tab.close();
  });

  it('shows the page navigated to last, even when an earlier one answers after it', async () => {
    const tab = await browser.newPage();
    // The list's answer is held back until the repository's page has been shown.
    let asked!: () => void;
    let release!: () => void;
    const listAsked = new Promise<void>((resolve) => (asked = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const isList = (url: URL) => url.pathname === '/api/v1/repositories';
    await tab.route(isList, async (route) => {
      asked();
      await held;
      await route.continue();
    });
    await tab.goto(`${berth.url}/`);
    await listAsked;
    await tab.goto(`${berth.url}/#/repository/solo`);
    await tab.getByRole('heading', { level: 1, name: 'solo' }).waitFor();
    const listed = tab.waitForResponse((response) => isList(new URL(response.url())));
    release();
    await listed;
    // Time for the list to be drawn, were an earlier render still allowed to draw it.
    await tab.waitForTimeout(300);
    assert.equal(await tab.getByRole('heading', { level: 1 }).innerText(), 'solo', 'the repository page stays');
    await tab.close();
  });

  it('shows an index’s platforms and untagged manifests apart', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/#/repository/app2`);
    const untagged = tab.getByRole('table', { name: 'Untagged manifests of app2' });
    await untagged.getByRole('link', { name: fixture.untagged.manifest.digest.toString().slice(0, 19) + '…' }).waitFor();
    await tab.goto(`${berth.url}/#/repository/multi`);
    await tab.getByRole('table', { name: 'Tags of multi' }).getByText('index: linux/amd64, linux/arm64').waitFor();
    await tab.close();
  });

  it('draws the storage analysis as charts', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/#/storage`);
    await tab.getByRole('img', { name: 'Logical, referenced and physical bytes' }).waitFor();
    await tab.getByRole('img', { name: /Blobs in several images/ }).waitFor();
    assert.match(await tab.locator('#storage-figures').innerText(), /Dedup ratio\s+\d+\.\d\d×/);
    await tab.getByRole('button', { name: 'Run a deep scan' }).click();
    await tab.getByText(/layers? scanned/).waitFor();
    await tab.getByText(/Duplicate file bytes/).waitFor();
    assert.doesNotMatch(await tab.locator('.figure').filter({ hasText: 'Duplicate file bytes' }).innerText(), /\b0 B/, 'the planted duplicate files are found');
    await checkBasics(tab);
    await screenshot(tab, 'storage');
    await tab.close();
  });

  it('deletes one tag after a confirmation, leaving its siblings', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/#/repository/app1`);
    // From the keyboard: Enter opens the confirmation on Cancel, Escape closes it, focus returns, nothing goes.
    await tab.getByRole('button', { name: 'Delete tag latest' }).focus();
    await tab.keyboard.press('Enter');
    await tab.getByRole('dialog').waitFor();
    assert.equal(await tab.evaluate(() => document.activeElement?.textContent), 'Cancel', 'the dialog opens on Cancel');
    await tab.keyboard.press('Escape');
    await tab.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal(await tab.evaluate(() => document.activeElement?.textContent), 'Delete tag latest', 'focus is back on the button');
    await tab.getByRole('button', { name: 'Delete tag latest' }).click();
    const dialog = tab.getByRole('dialog', { name: 'Delete tag app1:latest?' });
    assert.match(await dialog.innerText(), /other tags: v2/);
    await dialog.getByRole('button', { name: 'Delete tag' }).click();
    await tab.getByRole('button', { name: 'Delete tag latest' }).waitFor({ state: 'detached' });
    const tagNames = await tab.getByRole('table', { name: 'Tags of app1' }).getByRole('rowheader').allInnerTexts();
    assert.deepEqual(
      tagNames.filter((name) => name !== 'referrer'),
      ['v1', 'v2'],
    );
    await tab.close();
  });

  it('asked nothing of any other host', () => {
    const foreign = requests.filter((url) => !url.startsWith(berth.url) && !url.startsWith('data:'));
    assert.deepEqual(foreign, []);
  });
});

describe('the web interface with a login (auth.mode htpasswd) in a real browser', needs('chromium'), () => {
  let berth: AuthBerth;
  let scratch: string;
  let browser: BrowserContext;

  before(async () => {
    berth = await startAuthBerth('htpasswd');
    await pushImages(berth.url, 'htpasswd', ['team/app1', 'team/app2'], ['v1', 'v2']);
    scratch = await mkdtemp(join(tmpdir(), 'berth-ui-auth-'));
    browser = await launchChromium(join(scratch, 'profile'));
  });
  after(async () => {
    await browser?.close();
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function logIn(tab: Page, user: keyof typeof USERS, password: string = USERS[user]): Promise<void> {
    await tab.getByLabel('User name').fill(user);
    await tab.getByLabel('Password').fill(password);
    await tab.getByRole('button', { name: 'Log in' }).click();
  }

  it('asks for a login, refuses a wrong password, then shows what the user may pull; logs out', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/`);
    await tab.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    await checkBasics(tab);
    await logIn(tab, 'alice', 'wrong');
    await tab.getByRole('alert').filter({ hasText: 'invalid username or password' }).waitFor();
    await logIn(tab, 'alice');
    await tab.getByText('Logged in as alice').waitFor();
    await tab.getByRole('link', { name: 'team/app1' }).waitFor();
    await tab.getByRole('button', { name: 'Log out' }).click();
    await tab.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    assert.equal(await tab.evaluate(() => sessionStorage.length), 0, 'the credentials are gone');
    await tab.close();
  });

  it('lets alice delete a tag in team/ and offers bob no delete', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${berth.url}/#/login`);
    await logIn(tab, 'alice');
    await tab.getByRole('link', { name: 'team/app1' }).click();
    await tab.getByRole('button', { name: 'Delete tag v1' }).click();
    await tab.getByRole('dialog').getByRole('button', { name: 'Delete tag' }).click();
    await tab.getByRole('button', { name: 'Delete tag v1' }).waitFor({ state: 'detached' });
    await tab.getByRole('button', { name: 'Log out' }).click();

    await logIn(tab, 'bob');
    await tab.getByText('Logged in as bob').waitFor();
    assert.equal(await tab.getByRole('table').count(), 0, 'bob may pull no team/ repository: the list is empty');
    await tab.goto(`${berth.url}/#/repository/team/app1`);
    await tab.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
    await tab.close();
  });
});
