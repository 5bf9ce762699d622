import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What a connection to a real bucket carries (issue 26): AWS gives one connection to S3 roughly 80–100 MB/s. */
export interface S3LinkOptions {
  /** Per connection and direction, in MB/s (10^6 bytes). */
  mbPerSecond: number;
  /** Added before each request reaches the emulator, as a bucket's first byte takes. */
  latencyMs: number;
}

export interface S3Link {
  /** The emulator's endpoint as the registries should use it: through the link. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Whether a connection waits for its next request: set when an answer flows back, taken by the request's first bytes. */
interface Turn {
  requestDue: boolean;
}

/** Lets bytes through no faster than `bytesPerSecond`: each chunk leaves once the link would have carried it. */
function throttle(bytesPerSecond: number, onChunk: () => void = () => undefined): Transform {
  let free = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk();
      const now = performance.now();
      free = Math.max(free, now) + (chunk.length * 1000) / bytesPerSecond;
      const wait = free - now;
      if (wait < 1) callback(null, chunk);
      else setTimeout(() => callback(null, chunk), wait);
    },
  });
}

/** Holds the first bytes of each request on a connection for `latencyMs`. */
function requestLatency(latencyMs: number, turn: Turn): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!turn.requestDue || latencyMs === 0) return callback(null, chunk);
      turn.requestDue = false;
      setTimeout(() => callback(null, chunk), latencyMs);
    },
  });
}

/**
 * A TCP relay in front of the S3 emulator that makes it behave like a bucket across a network: each
 * connection carries at most `mbPerSecond` each way and each request waits `latencyMs`. The
 * emulator on loopback answers a single GET at several hundred MB/s, which hid what parallel
 * connections buy against AWS. Both registries reach the emulator through the same link.
 */
export async function startS3Link(endpoint: string, options: S3LinkOptions): Promise<S3Link> {
  const target = new URL(endpoint);
  const bytesPerSecond = options.mbPerSecond * 1e6;
  const sockets = new Set<Socket>();
  // Half-open both ways: a client that ends its request still reads the whole answer.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true });
    const turn: Turn = { requestDue: true };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    pipeline(client, requestLatency(options.latencyMs, turn), throttle(bytesPerSecond), upstream).catch(closeBoth);
    pipeline(
      upstream,
      throttle(bytesPerSecond, () => (turn.requestDue = true)),
      client,
    ).catch(closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
