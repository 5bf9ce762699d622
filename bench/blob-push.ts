import { request } from 'node:http';
import type { Readable } from 'node:stream';
import type { BenchServer } from './servers.ts';

/** Sends one request with a streamed body; resolves with the status, Location, and the start of any error body. */
export function send(url: string, method: string, body: Readable | undefined, headers: Record<string, string | number>) {
  return new Promise<{ status: number; location?: string; error?: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      let error = '';
      response.on('data', (chunk: Buffer) => {
        if ((response.statusCode ?? 0) >= 400 && error.length < 300) error += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location, error: error.slice(0, 300) }));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

export function expectStatus(status: number, wanted: number, what: string, error = ''): void {
  if (status !== wanted) throw new Error(`${what}: expected ${wanted}, got ${status} ${error}`.trim());
}

/** What a monolithic push needs: a digest, a size, and the bytes as often as asked. */
export interface BlobSource {
  digest: string;
  size: number;
  stream(): Readable;
}

/** Pushes a blob in as few requests as the server takes: one POST for Berth, POST + PUT for Distribution. */
export async function pushBlob(server: BenchServer, repository: string, blob: BlobSource): Promise<void> {
  const url = `${server.url}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`;
  const post = await send(url, 'POST', blob.stream(), { 'Content-Length': blob.size, 'Content-Type': 'application/octet-stream' });
  let { status, error } = post;
  // Distribution has no single-POST upload: it answers 202 and takes the bytes on a PUT.
  if (status === 202 && post.location) {
    const put = new URL(post.location, server.url);
    put.searchParams.set('digest', blob.digest);
    ({ status, error } = await send(put.href, 'PUT', blob.stream(), { 'Content-Length': blob.size }));
  }
  expectStatus(status, 201, `monolithic upload to ${server.name}`, error);
}
