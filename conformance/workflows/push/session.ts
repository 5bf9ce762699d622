import { CheckFailure, describe, expectStatus, expectThat, type CheckContext } from '../../check.ts';
import { randomContent, type Content } from '../../content.ts';
import type { Exchange } from '../../http.ts';
import { namespace as repo, withQuery } from '../../operations.ts';

/** Everything the push checks leave behind, deleted by the workflow's cleanup. */
export interface PushState {
  blobs: Set<string>;
  manifests: Set<string>;
  /** Blobs pushed to the cross-mount repository as mount sources. */
  mountedBlobs: Set<string>;
}

export const state = (context: CheckContext) => context.state.get('push') as PushState;

export function pushed(context: CheckContext, blob: Content): void {
  state(context).blobs.add(`${blob.digest}`);
}

/** Chunk size of the chunked checks, unless the registry asks for more (OCI-Chunk-Min-Length). */
const CHUNK = 10_000;

/** An upload session: its Location, and the chunk size the registry accepts. */
export interface Session {
  location: string;
  chunk: number;
}

/** POST to open an upload session (end-4a): 202 with a Location. */
export async function startUpload(context: CheckContext, query = ''): Promise<Session> {
  const start = await context.client.request('POST', `/v2/${repo(context)}/blobs/uploads/${query}`, { headers: { 'Content-Length': '0' } });
  expectStatus(start, 202, 'POST to start an upload (end-4a)', ['location']);
  const location = expectNextLocation(start, 'POST to start an upload');
  return { location, chunk: Math.max(CHUNK, Number(start.headers.get('oci-chunk-min-length') ?? 0) || 0) };
}

/** The Location a 202 gives for the next request of the session ("Pushing a blob in chunks"). */
export function expectNextLocation(exchange: Exchange, what: string): string {
  const location = exchange.headers.get('location');
  if (!location) throw new CheckFailure(`${what}: no Location in ${describe(exchange)}`);
  return location;
}

export async function expectBlob(context: CheckContext, name: string, blob: Content, what: string): Promise<void> {
  const get = await context.client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
  expectStatus(get, 200, `${what}: GET the blob afterwards`);
  expectThat(get.body.equals(blob.bytes), `${what}: the stored blob differs from what was pushed`);
}

/**
 * Closes an upload with `PUT ?digest=` (end-6), optionally carrying a last chunk, and checks
 * the 201 and that the registry then serves exactly the blob.
 */
export async function closeUpload(
  context: CheckContext,
  location: string,
  blob: Content,
  what: string,
  chunk?: { body: Uint8Array; headers: Record<string, string> },
) {
  const put = await context.client.request('PUT', withQuery(location, `digest=${blob.digest}`), chunk ?? {});
  pushed(context, blob);
  expectStatus(put, 201, what, ['location']);
  expectNextLocation(put, what);
  await expectBlob(context, repo(context), blob, what);
}

/** Pushes bytes `start` to `end` of a blob as one chunk with Content-Range (end-5). */
export function patchChunk(context: CheckContext, location: string, blob: Content, start: number, end: number) {
  return context.client.request('PATCH', location, {
    body: blob.bytes.subarray(start, end),
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end - 1}`, 'Content-Length': String(end - start) },
  });
}

/**
 * An upload of a two-chunk blob whose first chunk was received: where the out-of-order and stale-session
 * checks start. `first` is the session as the POST opened it, `location` where the PATCH said to go on.
 */
export async function uploadFirstChunk(context: CheckContext): Promise<{ chunk: number; blob: Content; first: string; location: string }> {
  const upload = await startUpload(context);
  const { chunk } = upload;
  const blob = randomContent(2 * chunk);
  const patch = await patchChunk(context, upload.location, blob, 0, chunk);
  expectStatus(patch, 202, 'first PATCH', ['range', 'location']);
  return { chunk, blob, first: upload.location, location: expectNextLocation(patch, 'first PATCH') };
}
