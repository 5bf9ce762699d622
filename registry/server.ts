import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Driver } from '../storage/driver.ts';
import { Store } from '../storage/store.ts';
import { createApp } from './app.ts';

export interface RunningServer {
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes storage. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  driver: Driver;
  host: string;
  port: number;
  log?: (message: string) => void;
}

/** Starts the registry on one process; the caller has already checked the driver. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const app = createApp({ store: new Store(options.driver), log: options.log });
  const server = createServer(
    {
      // Blob uploads of many GiB may take long; idle and header timeouts still end stuck clients.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    async close(graceMs = 30_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections turn idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(timer);
      await options.driver.close?.();
    },
  };
}
