import type { NextFunction, Request, Response } from 'express';
import { isUpload, requestBytes, requestEnded, requestStarted, type RequestOutcome } from './metrics/http-metrics.ts';
import type { RouteMatch } from './route.ts';
import { assignRequestId } from './request-log/request-id.ts';

/** The paths outside /v2/ that have an endpoint label of their own: a fixed set, so the label stays bounded. */
const OPERATIONS = new Set(['/healthz', '/livez', '/readyz', '/metrics', '/token', '/api/v1/analysis']);

/** The request's endpoint id (end-N) once routed, the operations path without its slash, or `unmatched`. */
function endpointOf(req: Request, res: Response): string {
  const match = res.locals.match as RouteMatch | undefined;
  if (match) return match.endpoint.id;
  return OPERATIONS.has(req.path) ? req.path.slice(1) : 'unmatched';
}

/**
 * The first middleware: gives each request its id (echoed as `X-Request-Id`), times it and, when its
 * response closes (ended or cut off), records its metrics and hands the outcome to `after` (the
 * request log). One listener per request, nothing else allocated on the way.
 */
export function observeRequests(after?: (outcome: RequestOutcome, requestId: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = performance.now();
    const id = assignRequestId(req, res);
    const upload = isUpload(req);
    const written = req.socket?.bytesWritten ?? 0;
    requestStarted(upload);
    res.once('close', () => {
      const outcome: RequestOutcome = {
        req,
        res,
        endpoint: endpointOf(req, res),
        seconds: (performance.now() - start) / 1000,
        ...requestBytes(req, res, written),
      };
      requestEnded(outcome, upload);
      after?.(outcome, id);
    });
    next();
  };
}
