import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { RandomBlob } from '../blob-source.ts';
import type { BenchServer } from '../servers.ts';
import { MiB, timed, type Workload } from '../workload.ts';

/** Sends one request with a streamed body; resolves with the status and Location. */
function send(url: string, method: string, body: Readable | undefined, headers: Record<string, string | number>) {
  return new Promise<{ status: number; location?: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

function expect(status: number, wanted: number, what: string): void {
  if (status !== wanted) throw new Error(`${what}: expected ${wanted}, got ${status}`);
}

/** What a monolithic push needs: a digest, a size, and the bytes as often as asked. */
export interface BlobSource {
  digest: string;
  size: number;
  stream(): Readable;
}

async function monolithic(server: BenchServer, repository: string, blob: BlobSource): Promise<void> {
  const url = `${server.url}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`;
  const post = await send(url, 'POST', blob.stream(), { 'Content-Length': blob.size, 'Content-Type': 'application/octet-stream' });
  let status = post.status;
  // Distribution has no single-POST upload: it answers 202 and takes the bytes on a PUT.
  if (status === 202 && post.location) {
    const put = new URL(post.location, server.url);
    put.searchParams.set('digest', blob.digest);
    ({ status } = await send(put.href, 'PUT', blob.stream(), { 'Content-Length': blob.size }));
  }
  expect(status, 201, `monolithic upload to ${server.name}`);
}

/** Monolithic upload of a fresh random blob: MB/s from first byte to 201. */
export function monolithicUpload(size: number, runs: number, repository = 'bench/upload'): Workload {
  return {
    name: `monolithic upload ${size / MiB} MiB`,
    unit: 'MB/s',
    higherIsBetter: true,
    runs,
    async measure(server) {
      const blob = RandomBlob.create(size);
      return size / 1e6 / (await timed(() => monolithic(server, repository, blob)));
    },
  };
}

/** Chunked upload: POST, PATCH `chunk` bytes at a time with Content-Range, closing PUT. */
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
        expect(status, 202, `start of a chunked upload on ${server.name}`);
        for (let offset = 0; offset < size; offset += chunk) {
          const end = Math.min(offset + chunk, size);
          ({ status, location } = await send(new URL(location!, server.url).href, 'PATCH', blob.stream(offset, end), {
            'Content-Length': end - offset,
            'Content-Range': `${offset}-${end - 1}`,
            'Content-Type': 'application/octet-stream',
          }));
          expect(status, 202, `chunk at ${offset} on ${server.name}`);
        }
        const close = new URL(location!, server.url);
        close.searchParams.set('digest', blob.digest);
        ({ status } = await send(close.href, 'PUT', undefined, { 'Content-Length': 0 }));
        expect(status, 201, `closing PUT on ${server.name}`);
      });
      return size / 1e6 / seconds;
    },
  };
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
      await monolithic(server, 'bench/download', blob);
      blobs.set(server.name, blob);
    },
    async measure(server) {
      const blob = blobs.get(server.name)!;
      let received = 0;
      const seconds = await timed(async () => {
        // node:http rather than fetch: the client should cost as little CPU as the servers.
        const status = await new Promise<number>((resolve, reject) => {
          request(`${server.url}/v2/bench/download/blobs/${blob.digest}`, (response) => {
            response.on('data', (chunk: Buffer) => (received += chunk.length));
            response.on('end', () => resolve(response.statusCode ?? 0));
          })
            .on('error', reject)
            .end();
        });
        expect(status, 200, `download from ${server.name}`);
      });
      if (received !== size) throw new Error(`download from ${server.name}: ${received} of ${size} bytes`);
      return size / 1e6 / seconds;
    },
  };
}

export { monolithic as pushBlob };
