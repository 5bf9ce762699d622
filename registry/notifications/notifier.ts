import { globToRegExp } from '../../analysis/glob.ts';
import type { RequestOutcome } from '../metrics/http-metrics.ts';
import type { EndpointConfig, EventAction, NotificationsConfig } from './config.ts';
import { deriveEvent } from './derive-event.ts';
import { EndpointQueue } from './endpoint-queue.ts';
import type { RegistryEvent } from './event.ts';

/** Defaults where the config leaves a value out (Distribution's are similar: a second's backoff). */
const DEFAULTS = { timeoutMs: 5_000, threshold: 10, backoffMs: 1_000, queueSize: 1_000 };

/** One endpoint's filters, checked before an event is queued for it. */
interface Route {
  queue: EndpointQueue;
  actions: ReadonlySet<EventAction>;
  mediaTypes: ReadonlySet<string>;
  repositories?: readonly RegExp[];
}

function routeFor(endpoint: EndpointConfig): Route {
  const queue = new EndpointQueue({
    name: endpoint.name,
    url: endpoint.url,
    headers: endpoint.headers ?? {},
    format: endpoint.format ?? 'distribution',
    timeoutMs: endpoint.timeout ?? DEFAULTS.timeoutMs,
    threshold: endpoint.threshold ?? DEFAULTS.threshold,
    backoffMs: endpoint.backoff ?? DEFAULTS.backoffMs,
    queueSize: endpoint.queueSize ?? DEFAULTS.queueSize,
  });
  return {
    queue,
    actions: new Set(endpoint.ignore.actions ?? []),
    mediaTypes: new Set(endpoint.ignore.mediatypes ?? []),
    ...(endpoint.repositories ? { repositories: endpoint.repositories.map(globToRegExp) } : {}),
  };
}

function wanted(route: Route, event: RegistryEvent): boolean {
  if (route.actions.has(event.action)) return false;
  if (event.target.mediaType && route.mediaTypes.has(event.target.mediaType)) return false;
  return !route.repositories || route.repositories.some((glob) => glob.test(event.target.repository));
}

export interface Notifier {
  /** Given each finished request by the request observer; queues its event, if any, and returns. */
  observe(outcome: RequestOutcome, requestId: string): void;
  /** After the last request: what is queued gets `graceMs` to go out. */
  close(graceMs: number): Promise<void>;
}

/** The webhooks of `notifications.endpoints`; undefined when there are none (then nothing is derived per request). */
export function createNotifier(config: NotificationsConfig): Notifier | undefined {
  const routes = (config.endpoints ?? []).filter((endpoint) => !endpoint.disabled).map(routeFor);
  if (routes.length === 0) return undefined;
  return {
    observe(outcome, requestId) {
      const event = deriveEvent(outcome, requestId);
      if (!event) return;
      for (const route of routes) if (wanted(route, event)) route.queue.add(event);
    },
    async close(graceMs) {
      await Promise.all(routes.map((route) => route.queue.close(graceMs)));
    },
  };
}
