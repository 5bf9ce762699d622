import type { Logger } from 'pino';
import type { RequestOutcome } from '../metrics/http-metrics.ts';
import type { RouteMatch } from '../route.ts';

/**
 * One line per request. Only these fields are written, each from a known place: never a header but
 * the user agent, never a query string (the path is `req.path`), so no Authorization value,
 * password or token reaches the log. The user is the name the auth middleware accepted.
 */
export function requestLine(logger: Logger) {
  return (outcome: RequestOutcome, requestId: string): void => {
    const { req, res } = outcome;
    const status = res.statusCode;
    const level = status >= 500 ? 'error' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const params = (res.locals.match as RouteMatch | undefined)?.params;
    logger[level]({
      requestId,
      method: req.method,
      path: req.path,
      endpoint: outcome.endpoint,
      status,
      bytesIn: outcome.received,
      bytesOut: outcome.sent,
      durationMs: Math.round(outcome.seconds * 1e4) / 10,
      repository: params?.name,
      reference: params?.reference ?? params?.digest,
      user: res.locals.user as string | undefined,
      remoteAddress: req.socket?.remoteAddress,
      userAgent: req.headers['user-agent'],
      // A response cut off before its end (client gone, or a failure mid-body).
      ...(res.writableFinished ? {} : { aborted: true }),
    });
  };
}
