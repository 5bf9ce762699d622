import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageManifest } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

const FILE_BYTES = 256 * 1024 * 1024;

/** A gzip layer holding one file of `size` zero bytes, built as a stream: small compressed, large inside. */
async function bigFileLayer(path: string, size: number): Promise<Buffer> {
  const archive = pack();
  const gzip = archive.pipe(createGzip());
  const entry = archive.entry({ name: path, size, type: 'file' });
  const chunk = Buffer.alloc(1 << 20);
  const written = (async () => {
    for (let left = size; left > 0; left -= chunk.length) {
      if (!entry.write(chunk.subarray(0, Math.min(chunk.length, left)))) await once(entry, 'drain');
    }
    entry.end(Buffer.alloc(0));
    archive.finalize();
  })();
  const chunks: Buffer[] = [];
  for await (const piece of gzip) chunks.push(piece as Buffer);
  await written;
  return Buffer.concat(chunks);
}

let berth: RunningBerth;
before(async () => {
  berth = await startBerth();
});
after(() => berth.stop());

it('streams layers: --deep over 512 MiB of files stays within bounded memory', async () => {
  const api = new RegistryAPI(berth.url);
  const layers = [blobOf(await bigFileLayer('data/big.bin', FILE_BYTES)), blobOf(await bigFileLayer('./data/big.bin', FILE_BYTES + 1))];
  const config = blobOf('{"big":true}');
  for (const blob of [config, ...layers]) await api.pushBlob('big', blob);
  assert.equal((await api.pushManifest('big', 'v1', imageManifest(config, layers))).status, 201);

  // A child process, so that its peak RSS is the analysis alone.
  const script = `
    import { analyze } from './analysis/analysis.ts';
    import { FsDriver } from './storage/drivers/fs/fs-driver.ts';
    import { Store } from './storage/store.ts';
    const report = await analyze(new Store(new FsDriver(${JSON.stringify(berth.root)})), { deep: true });
    console.log(JSON.stringify({ deep: report.deep, maxRSS: process.resourceUsage().maxRSS * 1024 }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: new URL('../..', import.meta.url).pathname,
  });
  const { deep, maxRSS } = JSON.parse(stdout) as { deep: { fileBytes: number; wastedBytes: number }; maxRSS: number };
  assert.equal(deep.fileBytes, 2 * FILE_BYTES + 1);
  assert.equal(deep.wastedBytes, FILE_BYTES, 'the upper layer overwrites the whole lower file');
  console.log(`analyze --deep peak RSS over ${(deep.fileBytes / 2 ** 20).toFixed(0)} MiB of files: ${(maxRSS / 1e6).toFixed(1)} MB`);
  assert.ok(maxRSS < 200e6, `peak RSS ${maxRSS} bytes`);
});
