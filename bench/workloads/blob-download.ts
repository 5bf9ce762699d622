import { expectStatus, pushBlob } from '../blob-push.ts';
import { RandomBlob } from '../blob-source.ts';
import { leanGet } from '../lean-get.ts';
import type { BenchServer } from '../servers.ts';
import { MiB, timed, warmUp, type Workload } from '../workload.ts';

async function download(server: BenchServer, blob: RandomBlob): Promise<void> {
  const { status, bytes } = await leanGet(new URL(`${server.url}/v2/bench/download/blobs/${blob.digest}`));
  expectStatus(status, 200, `download from ${server.name}`);
  if (bytes !== blob.size) throw new Error(`download from ${server.name}: ${bytes} of ${blob.size} bytes`);
}

/** Which read of a blob a download is: one of many of the same blob, or a fresh blob's first, with or without a local copy. */
export type DownloadRead = 'repeated' | 'first' | 'first without local copy';

/**
 * Blob download: MB/s reading a stored blob to the end, the same blob run after run. A first read
 * reads a blob pushed just before (untimed), which no server has read yet; without local copy,
 * the server's local copies are removed first, as if another machine had taken the push.
 */
export function blobDownload(size: number, runs: number, read: DownloadRead = 'repeated'): Workload {
  const blobs = new Map<string, RandomBlob>();
  const suffix = { repeated: '', first: ', first read after its push', 'first without local copy': ', first read, no local copy' }[read];
  return {
    name: `blob download ${size / MiB} MiB${suffix}`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async setup(server) {
      if (read !== 'repeated') return;
      const blob = RandomBlob.create(size);
      await pushBlob(server, 'bench/download', blob);
      blobs.set(server.name, blob);
      await warmUp(() => download(server, blob));
    },
    async measure(server) {
      if (read === 'repeated') return size / 1e6 / (await timed(() => download(server, blobs.get(server.name)!)));
      const blob = RandomBlob.create(size);
      await pushBlob(server, 'bench/download', blob);
      if (read === 'first without local copy') await server.forgetLocalCopies();
      const seconds = await timed(() => download(server, blob));
      await server.discardBlob(blob.digest);
      return size / 1e6 / seconds;
    },
  };
}
