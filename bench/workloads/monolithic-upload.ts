import { pushBlob } from '../blob-push.ts';
import { RandomBlob } from '../blob-source.ts';
import { MiB, timed, type Workload } from '../workload.ts';

/** Monolithic upload of a fresh random blob each run: MB/s from first byte to 201. */
export function monolithicUpload(size: number, runs: number, repository = 'bench/upload'): Workload {
  return {
    name: `monolithic upload ${size / MiB} MiB`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async measure(server) {
      const blob = RandomBlob.create(size);
      const seconds = await timed(() => pushBlob(server, repository, blob));
      await server.discardBlob(blob.digest);
      return size / 1e6 / seconds;
    },
  };
}
