import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';

/** What a client's own id may be: bounded and plain, so it can go into a header and a log line as is. */
const ACCEPTED = /^[\w.:@/+=-]{1,128}$/;

/**
 * The request's id: the `X-Request-Id` a proxy or client sent, when it is plain, or a new UUID;
 * echoed back in the response so either side can find the request's log line.
 */
export function assignRequestId(req: Request, res: Response): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && ACCEPTED.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}
