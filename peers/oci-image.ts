import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/**
 * Builds a real OCI image layout with umoci: one tar+gzip layer per entry of `layers`, each
 * holding a file of random bytes of that size. Returns the layout directory (tag `tag`); a new
 * one lives in its own temp directory, which the caller removes.
 */
export async function buildImage(tag: string, layers: number[], layout?: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'oci-files-'));
  const dir = layout ?? join(scratch, 'layout');
  if (!layout) await run('umoci', ['init', '--layout', dir]);
  await run('umoci', ['new', '--image', `${dir}:${tag}`]);
  for (const [i, size] of layers.entries()) {
    const folder = join(scratch, `layer${i}`);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, `file${i}.bin`), randomBytes(size));
    await run('umoci', ['insert', '--image', `${dir}:${tag}`, folder, `/data${i}`]);
  }
  await run('umoci', ['config', '--image', `${dir}:${tag}`, '--config.cmd', '/bin/true']);
  for (const [i] of layers.entries()) await rm(join(scratch, `layer${i}`), { recursive: true, force: true });
  return dir;
}

/** `skopeo copy` over plain HTTP, with its output in the error when it fails. */
export async function skopeoCopy(from: string, to: string, extra: string[] = []): Promise<void> {
  await run('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, from, to], { maxBuffer: 1 << 24 });
}
