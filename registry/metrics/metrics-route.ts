import type { Request, Response } from 'express';
import { METRICS_CONTENT_TYPE } from './ipc.ts';
import { metricsSource } from './metrics-source.ts';

/** `/metrics` on the main listener: the whole server's metrics, summed across workers. */
export async function metricsHandler(_req: Request, res: Response): Promise<void> {
  const text = await metricsSource()();
  res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
