import { expectStatus, pushBlob } from '../blob-push.ts';
import { RandomBlob } from '../blob-source.ts';
import { leanGet } from '../lean-get.ts';
import { MiB, timed, type Workload } from '../workload.ts';

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
    },
    async measure(server) {
      const blob = blobs.get(server.name)!;
      let received = 0;
      const seconds = await timed(async () => {
        const { status, bytes } = await leanGet(new URL(`${server.url}/v2/bench/download/blobs/${blob.digest}`));
        expectStatus(status, 200, `download from ${server.name}`);
        received = bytes;
      });
      if (received !== size) throw new Error(`download from ${server.name}: ${received} of ${size} bytes`);
      return size / 1e6 / seconds;
    },
  };
}
