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

/** Blob download: MB/s reading a stored blob to the end. */
export function blobDownload(size: number, runs: number): Workload {
  const blobs = new Map<string, RandomBlob>();
  return {
    name: `blob download ${size / MiB} MiB`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async setup(server) {
      const blob = RandomBlob.create(size);
      await pushBlob(server, 'bench/download', blob);
      blobs.set(server.name, blob);
      await warmUp(() => download(server, blob));
    },
    async measure(server) {
      return size / 1e6 / (await timed(() => download(server, blobs.get(server.name)!)));
    },
  };
}
