import type { Request, Response } from 'express';
import { live, requests } from './metrics.ts';

/** The socket's bytesRead when its previous request ended: each request counts what came since. */
const READ_BEFORE = Symbol('berth.bytesReadBefore');
type CountedSocket = { bytesRead: number; bytesWritten: number; [READ_BEFORE]?: number };

/** One finished (or abandoned) request, as the request observer saw it. */
export interface RequestOutcome {
  req: Request;
  res: Response;
  endpoint: string;
  seconds: number;
  /** Bytes read from the client for this request, headers included. */
  received: number;
  /** Response body bytes sent. */
  sent: number;
}

/**
 * Whether a request sends blob data (POST, PATCH or PUT under `/blobs/uploads`). Judged from the
 * URL as the request arrives, before routing has named its endpoint.
 */
export function isUpload(req: Request): boolean {
  return (req.method === 'PATCH' || req.method === 'PUT' || req.method === 'POST') && req.url.includes('/blobs/uploads');
}

/** Counts a request as started; `requestEnded` undoes it. */
export function requestStarted(upload: boolean): void {
  live.requestsInFlight++;
  if (upload) live.uploadsInProgress++;
}

/**
 * Bytes of one request on its connection: reads since the connection's previous request ended, and
 * the response's Content-Length when it was sent whole (sendfile and splice write past Node's
 * socket counters); else what Node wrote.
 */
export function requestBytes(req: Request, res: Response, written0: number): { received: number; sent: number } {
  const socket = req.socket as unknown as CountedSocket | null;
  if (!socket) return { received: 0, sent: 0 };
  const received = socket.bytesRead - (socket[READ_BEFORE] ?? 0);
  socket[READ_BEFORE] = socket.bytesRead;
  const length = req.method === 'HEAD' ? 0 : Number(res.getHeader('content-length') ?? Number.NaN);
  const sent = res.writableFinished && length >= 0 ? length : Math.max(0, socket.bytesWritten - written0);
  return { received, sent };
}

/** Records one request's metrics: the counters by endpoint, method and status, its time and bytes. */
export function requestEnded(outcome: RequestOutcome, upload: boolean): void {
  live.requestsInFlight--;
  if (upload) live.uploadsInProgress--;
  const row = requests.row(outcome.endpoint, outcome.req.method);
  const status = outcome.res.statusCode;
  row.statuses.set(status, (row.statuses.get(status) ?? 0) + 1);
  row.duration.observe(outcome.seconds);
  row.received += outcome.received;
  row.sent += outcome.sent;
}
