import type { Request, Response } from 'express';
import { RegistryError } from '../errors.ts';
import { METRICS_CONTENT_TYPE } from './ipc.ts';
import { metricsSource } from './metrics-source.ts';

/** `/metrics` on the main listener: the whole server's metrics, summed across workers. */
export async function metricsHandler(_req: Request, res: Response): Promise<void> {
  // The sum comes from the primary: without its answer the scrape is unavailable, not a server bug.
  const text = await metricsSource()().catch((error: Error) => {
    throw new RegistryError('UNAVAILABLE', `metrics: ${error.message}`);
  });
  res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
