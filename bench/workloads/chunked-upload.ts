import { expectStatus, send } from '../blob-push.ts';
import { RandomBlob } from '../blob-source.ts';
import { MiB, timed, type Workload } from '../workload.ts';

/** Chunked upload of a fresh random blob: POST, PATCH `chunk` bytes at a time with Content-Range, closing PUT. */
export function chunkedUpload(size: number, chunk: number, runs: number): Workload {
  return {
    name: `chunked upload ${size / MiB} MiB (${chunk / MiB} MiB chunks)`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async measure(server) {
      const blob = RandomBlob.create(size);
      const seconds = await timed(async () => {
        let { status, location } = await send(`${server.url}/v2/bench/chunked/blobs/uploads/`, 'POST', undefined, { 'Content-Length': 0 });
        expectStatus(status, 202, `start of a chunked upload on ${server.name}`);
        for (let offset = 0; offset < size; offset += chunk) {
          const end = Math.min(offset + chunk, size);
          ({ status, location } = await send(new URL(location!, server.url).href, 'PATCH', blob.stream(offset, end), {
            'Content-Length': end - offset,
            'Content-Range': `${offset}-${end - 1}`,
            'Content-Type': 'application/octet-stream',
          }));
          expectStatus(status, 202, `chunk at ${offset} on ${server.name}`);
        }
        const close = new URL(location!, server.url);
        close.searchParams.set('digest', blob.digest);
        ({ status } = await send(close.href, 'PUT', undefined, { 'Content-Length': 0 }));
        expectStatus(status, 201, `closing PUT on ${server.name}`);
      });
      await server.discardBlob(blob.digest);
      return size / 1e6 / seconds;
    },
  };
}
