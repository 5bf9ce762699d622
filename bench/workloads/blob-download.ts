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

/**
 * Blob download: MB/s reading a stored blob to the end, the same blob run after run. `firstRead`:
 * each run reads a blob pushed just before (untimed), which no server has read yet.
 */
export function blobDownload(size: number, runs: number, firstRead = false): Workload {
  const blobs = new Map<string, RandomBlob>();
  return {
    name: `blob download ${size / MiB} MiB${firstRead ? ', first read' : ''}`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async setup(server) {
      if (firstRead) return;
      const blob = RandomBlob.create(size);
      await pushBlob(server, 'bench/download', blob);
      blobs.set(server.name, blob);
      await warmUp(() => download(server, blob));
    },
    async measure(server) {
      if (!firstRead) return size / 1e6 / (await timed(() => download(server, blobs.get(server.name)!)));
      const blob = RandomBlob.create(size);
      await pushBlob(server, 'bench/download', blob);
      const seconds = await timed(() => download(server, blob));
      await server.discardBlob(blob.digest);
      return size / 1e6 / seconds;
    },
  };
}
