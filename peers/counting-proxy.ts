import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy passed on, with the response body bytes it carried back. */
export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
  contentRange?: string;
  bytes: number;
}

/** A reverse proxy in front of a registry that counts what crosses it and can misbehave on cue. */
export interface CountingProxy {
  url: string;
  host: string;
  requests: ProxiedRequest[];
  /** Response body bytes of blob GETs since the last reset. */
  blobBytes(): number;
  blobGets(): ProxiedRequest[];
  reset(): void;
  /** The next blob GET body longer than this stops (connection destroyed) after this many bytes. */
  cutNextBlobAfter(bytes: number): void;
  /** The next blob GET body longer than this sends this many bytes and then nothing more, until the client goes. */
  stallNextBlobAfter(bytes: number): void;
  /** The next blob GET's body has its first byte flipped. */
  corruptNextBlob(): void;
  /** The next PATCH body is cut (both connections dropped) after this many bytes reach the registry. */
  cutNextUploadAfter(bytes: number): void;
  /** Answer the next `times` requests whose path contains `pathPart` with `status` (and Retry-After: 0). */
  failNext(pathPart: string, status: number, times: number): void;
  /** Drop the Range header, as a server that ignores it would (answers 200 with the whole blob). */
  ignoreRange: boolean;
  stop(): Promise<void>;
}

const BLOB_PATH = /\/blobs\/sha256:[a-f0-9]{64}$/;

/** `delayMs` holds every request that long before passing it on, as a distant registry would. */
export async function startCountingProxy(target: string, options: { delayMs?: number } = {}): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let cutAfter: number | undefined;
  let corrupt = false;
  let stallAfter: number | undefined;
  let cutUploadAfter: number | undefined;
  let failure: { pathPart: string; status: number; times: number } | undefined;
  const state = { ignoreRange: false };

  const handle = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const path = incoming.url ?? '/';
    const isBlobGet = incoming.method === 'GET' && BLOB_PATH.test(path.split('?')[0]!);
    const headers = { ...incoming.headers, host: upstream.host };
    if (state.ignoreRange) delete headers.range;
    const record: ProxiedRequest = {
      method: incoming.method ?? 'GET',
      path,
      status: 0,
      bytes: 0,
      ...(incoming.headers.range ? { range: incoming.headers.range } : {}),
      ...(incoming.headers['content-range'] ? { contentRange: incoming.headers['content-range'] } : {}),
    };
    requests.push(record);
    if (failure && failure.times > 0 && path.includes(failure.pathPart)) {
      failure.times -= 1;
      record.status = failure.status;
      incoming.resume();
      outgoing.writeHead(failure.status, { 'content-type': 'application/json', 'retry-after': '0' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected by the test proxy' }] }));
      return;
    }
    const flip = isBlobGet && corrupt;
    if (isBlobGet) corrupt = false;
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path, headers }, (response) => {
      record.status = response.statusCode ?? 0;
      const responseHeaders = { ...response.headers };
      if (typeof responseHeaders.location === 'string') responseHeaders.location = responseHeaders.location.replace(upstream.origin, proxy.url);
      outgoing.writeHead(record.status, responseHeaders);
      response.on('data', (data: Buffer) => {
        const chunk = flip && record.bytes === 0 ? Buffer.concat([Buffer.from([data[0]! ^ 0xff]), data.subarray(1)]) : data;
        if (isBlobGet && stallAfter !== undefined && record.bytes + chunk.length > stallAfter) {
          const part = chunk.subarray(0, stallAfter - record.bytes);
          stallAfter = undefined;
          record.bytes += part.length;
          outgoing.write(part);
          response.pause();
          outgoing.once('close', () => response.destroy());
          return;
        }
        if (isBlobGet && cutAfter !== undefined && record.bytes + chunk.length > cutAfter) {
          const part = chunk.subarray(0, cutAfter - record.bytes);
          cutAfter = undefined;
          record.bytes += part.length;
          // A pause before the cut lets the client take in what arrived, as on a real network.
          outgoing.write(part, () => setTimeout(() => outgoing.destroy(), 100));
          response.destroy();
          return;
        }
        record.bytes += chunk.length;
        outgoing.write(chunk);
      });
      response.on('end', () => outgoing.end());
    });
    forward.on('error', () => outgoing.destroy());
    const cutUpload = incoming.method === 'PATCH' ? cutUploadAfter : undefined;
    if (cutUpload === undefined) {
      incoming.pipe(forward);
      return;
    }
    cutUploadAfter = undefined;
    let sent = 0;
    incoming.on('data', (chunk: Buffer) => {
      if (sent + chunk.length <= cutUpload) {
        sent += chunk.length;
        forward.write(chunk);
        return;
      }
      forward.write(chunk.subarray(0, cutUpload - sent), () =>
        setTimeout(() => {
          forward.destroy();
          outgoing.destroy();
        }, 100),
      );
      sent = cutUpload;
      incoming.pause();
    });
    incoming.on('end', () => forward.end());
  };

  const server = createServer(options.delayMs ? (incoming, outgoing) => void setTimeout(() => handle(incoming, outgoing), options.delayMs) : handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: CountingProxy = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    blobBytes: () => proxy.blobGets().reduce((sum, r) => sum + r.bytes, 0),
    blobGets: () => requests.filter((r) => r.method === 'GET' && BLOB_PATH.test(r.path.split('?')[0]!)),
    reset: () => void requests.splice(0),
    cutNextBlobAfter: (bytes) => void (cutAfter = bytes),
    corruptNextBlob: () => void (corrupt = true),
    stallNextBlobAfter: (bytes) => void (stallAfter = bytes),
    cutNextUploadAfter: (bytes) => void (cutUploadAfter = bytes),
    failNext: (pathPart, status, times) => void (failure = { pathPart, status, times }),
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(value: boolean) {
      state.ignoreRange = value;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
