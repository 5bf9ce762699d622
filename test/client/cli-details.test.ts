/** The smaller CLI items of issue 20 (item 9): version, help, referrers, platforms, short names in the store. */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LayoutStore } from '../../client/layout-store.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { storeImage } from '../helpers/stored-image.ts';

let berth: RunningBerth;
let scratch: string;
let store: LayoutStore;
let env: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runBerth(args, '', env);

before(async () => {
  berth = await startBerth();
  scratch = await mkdtemp(join(tmpdir(), 'berth-details-'));
  env = { DOCKER_CONFIG: join(scratch, 'docker') };
  store = await LayoutStore.open(join(scratch, 'store'));
  await storeImage(store, 'localhost:5000/team/app2:v1');
  await storeImage(store, 'other/app3:v1');
  await storeImage(store, 'more/app3:v1');
  const pushed = await cli('push', `${berth.host}/amd64-only:v1`, '--from', 'localhost:5000/team/app2:v1', '--store', store.dir);
  assert.equal(pushed.code, 0, pushed.stderr);
});
after(async () => {
  await berth?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('berth --version and help', () => {
  test('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    const printed = await cli('--version');
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, `${version}\n`);
  });

  test('copy --help gives the --platform default once', async () => {
    const help = await cli('copy', '--help');
    assert.equal(help.code, 0);
    assert.equal(help.stdout.match(/default/g)?.length, 1, help.stdout);
    assert.match(help.stdout, /\(default:\s+"all"\)/);
  });
});

describe('berth inspect --referrers', () => {
  test('with none, says so instead of a bare heading', async () => {
    const inspected = await cli('inspect', `${berth.host}/amd64-only:v1`, '--referrers');
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, /\nreferrers: +none \(no signature, SBOM or other artifact refers to this manifest\)\n$/);
  });
});

describe('--platform on a single-platform image', () => {
  test('another platform is refused, naming the image’s; its own platform, or none given, is pulled', async () => {
    const refused = await cli('pull', `${berth.host}/amd64-only:v1`, '--platform', 'linux/s390x', '--store', join(scratch, 'pulled'));
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `berth: ${berth.host}/amd64-only:v1 is a single-platform image for linux/amd64, not linux/s390x\n`);
    const copied = await cli('copy', `${berth.host}/amd64-only:v1`, `${berth.host}/copy:v1`, '--platform', 'linux/s390x');
    assert.equal(copied.code, 1);
    assert.match(copied.stderr, /is a single-platform image for linux\/amd64, not linux\/s390x/);
    for (const platform of [['--platform', 'linux/amd64'], []]) {
      const pulled = await cli('pull', `${berth.host}/amd64-only:v1`, ...platform, '--store', join(scratch, 'pulled'));
      assert.equal(pulled.code, 0, pulled.stderr);
    }
  });
});

describe('push --from', () => {
  test('takes a short name that only one stored image ends in', async () => {
    const pushed = await cli('push', `${berth.host}/short:v1`, '--from', 'app2', '--store', store.dir);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((await cli('tags', `${berth.host}/short`)).stdout, 'v1\n');
  });

  test('an unknown or ambiguous name lists the names the store has or the ones that match', async () => {
    const unknown = await cli('push', `${berth.host}/short:v1`, '--from', 'nope', '--store', store.dir);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `berth: ${store.dir} has no image named "nope"; it has localhost:5000/team/app2:v1, other/app3:v1, more/app3:v1\n`);
    const ambiguous = await cli('push', `${berth.host}/short:v1`, '--from', 'app3:v1', '--store', store.dir);
    assert.equal(ambiguous.code, 1);
    assert.equal(ambiguous.stderr, `berth: "app3:v1" could be any of 2 images in ${store.dir}: other/app3:v1, more/app3:v1; give the full name\n`);
  });
});
