import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy passed to the S3 server: when it arrived and when its answer (status and headers) went back. */
export interface S3Request {
  method: string;
  /** The path with its query (`/bucket/key?uploads`). */
  path: string;
  status: number;
  arrived: number;
  answered: number;
}

/** How many S3 requests some work made, and how many of them one after another (the longest chain). */
export interface RoundTrips {
  requests: number;
  sequential: number;
}

/**
 * A proxy in front of an S3 server that models a real bucket: each request waits `latencyMs`
 * before it is passed on (a small request to S3 takes 10–30 ms where s3rver on loopback takes
 * one), and every request is recorded, with how many were in flight at once.
 */
export interface LatencyProxy {
  /** The endpoint to give a registry instead of the S3 server's. */
  endpoint: string;
  latencyMs: number;
  requests: S3Request[];
  /** The most requests in flight at once since the last reset. */
  maxInFlight: number;
  /** Forgets the requests recorded so far. */
  reset(): void;
  /** The round trips of the requests recorded since the last reset; every request must be answered. */
  roundTrips(): RoundTrips;
  stop(): Promise<void>;
}

/** A real bucket answers a small request in 10–30 ms. */
export const BUCKET_LATENCY_MS = 15;

/**
 * Requests one after another: the longest chain in which each request arrived after the one
 * before it was answered. Requests sent together (in parallel) count once. One the server failed
 * (5xx: s3rver now and then fails a DeleteObjects) is not counted: the client's retry is.
 */
export function roundTrips(requests: readonly S3Request[]): RoundTrips {
  const answered = requests.filter((request) => request.status < 500);
  const byArrival = [...answered].sort((a, b) => a.arrived - b.arrived);
  const depth: number[] = [];
  byArrival.forEach((request, i) => {
    let before = 0;
    for (let j = 0; j < i; j++) if (byArrival[j]!.answered <= request.arrived) before = Math.max(before, depth[j]!);
    depth.push(before + 1);
  });
  return { requests: answered.length, sequential: Math.max(0, ...depth) };
}

export async function startLatencyProxy(target: string, options: { latencyMs?: number } = {}): Promise<LatencyProxy> {
  const upstream = new URL(target);
  let inFlight = 0;

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, record: S3Request) => {
    // The client's signature covers Host: it goes on unchanged (the S3 server is addressed path-style).
    // Node's server already answered any `Expect: 100-continue`.
    const { expect: _answered, ...headers } = incoming.headers;
    const passed = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers }, (response) => {
      record.status = response.statusCode ?? 0;
      record.answered = performance.now();
      outgoing.writeHead(record.status, response.headers);
      response.pipe(outgoing);
    });
    passed.on('error', () => outgoing.destroy());
    incoming.pipe(passed);
  };

  const server = createServer((incoming, outgoing) => {
    const record: S3Request = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', status: 0, arrived: performance.now(), answered: Number.NaN };
    proxy.requests.push(record);
    inFlight += 1;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    outgoing.once('close', () => (inFlight -= 1));
    setTimeout(() => forward(incoming, outgoing, record), proxy.latencyMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: LatencyProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    latencyMs: options.latencyMs ?? BUCKET_LATENCY_MS,
    requests: [],
    maxInFlight: 0,
    reset() {
      proxy.requests = [];
      proxy.maxInFlight = inFlight;
    },
    roundTrips() {
      const unanswered = proxy.requests.find((request) => Number.isNaN(request.answered));
      if (unanswered) throw new Error(`${unanswered.method} ${unanswered.path} has not been answered yet`);
      return roundTrips(proxy.requests);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
