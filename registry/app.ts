import express, { type NextFunction, type Request, type Response } from 'express';
import type { ImmutableTagsRule } from '../analysis/retention-policy.ts';
import type { Store } from '../storage/store.ts';
import { sendError, toRegistryError, RegistryError } from './errors.ts';
import { ManifestCache } from './manifest-cache.ts';
import { sendJSON } from './responses.ts';
import type { RouteMatch } from './route.ts';
import { matchRoute } from './router.ts';
import { analysisHandler } from './routes/analysis.ts';
import { adminMiddleware, authMiddleware, catalogMiddleware } from './auth/middleware.ts';
import type { AuthServices } from './auth/load-auth.ts';
import { tokenRouter } from './auth/token-endpoint.ts';
import { livezHandler, readyzHandler } from './health/health-routes.ts';
import { Readiness } from './health/readiness.ts';
import { metricsHandler } from './metrics/metrics-route.ts';
import { observeRequests } from './observe-requests.ts';
import type { MirrorSection } from './config/mirror-schema.ts';
import { mirrorLayer } from './mirror/middleware.ts';
import type { RequestOutcome } from './metrics/http-metrics.ts';
import { toUiSettings, type UiSettings } from './config/ui-schema.ts';
import { uiRouter } from './ui/ui-router.ts';

export interface AppOptions {
  store: Store;
  /** Bytes of parsed manifests kept in memory per process. */
  manifestCacheBytes?: number;
  log?: (message: string) => void;
  /** Authentication and authorization; absent means none. */
  auth?: AuthServices;
  /** What `/readyz` answers; by default a check of the store's driver. */
  readiness?: Readiness;
  /** Config `retention.immutableTags`: pushes may not move these tags, deletes may not remove them. */
  immutableTags?: readonly ImmutableTagsRule[];
  /** Serve `/metrics` (to callers with the catalog right when auth is on). */
  metricsRoute?: boolean;
  /** Called once per request as its response closes: the request log. */
  requestLog?: (outcome: RequestOutcome, requestId: string) => void;
  /** Called likewise, after the request log: the webhooks (notifications/), which derive events from the outcome. */
  notify?: (outcome: RequestOutcome, requestId: string) => void;
  /** The pull-through cache (config `mirror`): none without upstreams. */
  mirror?: MirrorSection;
  /** The web interface at `/` (config `ui`); on with its defaults when absent. */
  ui?: UiSettings;
}

/** The registry's HTTP application: the distribution API under /v2/ and a health check. */
export function createApp(options: AppOptions): express.Express {
  const { store } = options;
  const log = options.log ?? ((message: string) => console.error(message));
  const manifests = new ManifestCache(options.manifestCacheBytes ?? 64 * 1024 * 1024);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(observeRequests(afterRequest(options.requestLog, options.notify)));

  app.get('/healthz', (_req, res) => sendJSON(res, 200, { status: 'ok' }));
  app.get('/livez', livezHandler);
  app.get('/readyz', readyzHandler(options.readiness ?? new Readiness(() => store.driver.check())));
  const { auth } = options;
  if (auth?.issuer) app.use(tokenRouter(auth));
  if (options.metricsRoute) app.get('/metrics', ...(auth ? [catalogMiddleware(auth)] : []), metricsHandler);
  app.get(
    '/api/v1/analysis',
    ...(auth ? [adminMiddleware(auth)] : []),
    analysisHandler(
      store,
      options.mirror?.upstreams.map((upstream) => upstream.name),
    ),
  );
  const ui = options.ui ?? toUiSettings({ enabled: true });
  if (ui.enabled) app.use(uiRouter({ store, auth, immutableTags: options.immutableTags ?? [], settings: ui, log }));

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/v2')) return next();
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    res.locals.match = matchRoute(req.method, req.path);
    next();
  });
  const mirror = options.mirror?.upstreams.length ? mirrorLayer(options.mirror, store) : undefined;
  if (mirror) app.use(mirror.route);
  if (auth) app.use(authMiddleware(auth));
  if (mirror) app.use(mirror.fill);

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const match = res.locals.match as RouteMatch | undefined;
    if (!match) return next();
    await match.endpoint.handle({
      req,
      res,
      store,
      manifests,
      params: match.params,
      name: match.params.name ?? '',
      mayPull: (res.locals.mayPull as ((repository: string) => boolean) | undefined) ?? (() => true),
      immutableTags: options.immutableTags ?? [],
    });
  });

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new RegistryError('UNSUPPORTED', `no endpoint at ${req.path}`, { status: 404 }));
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isClientGone(req, res)) return;
    if (!req.complete) discardBody(req, res);
    const answer = toRegistryError(error) ?? new RegistryError('UNKNOWN', 'internal server error');
    if (answer.status >= 500) log(`${req.method} ${req.originalUrl}: ${answer.status} ${describe(error)}`);
    sendError(res, req.method, answer);
  });

  return app;
}

type AfterRequest = (outcome: RequestOutcome, requestId: string) => void;

/** One callback for the observer: none, one, or both in turn (no closure per request either way). */
function afterRequest(log?: AfterRequest, notify?: AfterRequest): AfterRequest | undefined {
  if (!log || !notify) return log ?? notify;
  return (outcome, requestId) => {
    log(outcome, requestId);
    notify(outcome, requestId);
  };
}

/** Bodies up to this size are read and dropped after an error so the connection stays usable. */
const DRAIN_LIMIT = 1 << 20;

/** Drops an unread request body: small ones are drained, large or unsized ones end the connection. */
function discardBody(req: Request, res: Response): void {
  const length = Number(req.headers['content-length'] ?? Number.NaN);
  // A body still piped into a write that failed would stall there: unpipe it first.
  req.unpipe();
  if (length <= DRAIN_LIMIT) req.resume();
  else if (!res.headersSent) res.setHeader('Connection', 'close');
}

/**
 * A request whose client disconnected: nothing to answer, nothing to log. Judged by the socket,
 * not by `req.destroyed`, which Node sets as soon as a request body has been read, nor by the
 * error's code, since a storage connection resets with the same codes.
 */
function isClientGone(req: Request, res: Response): boolean {
  return res.writableEnded || !req.socket || req.socket.destroyed;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
