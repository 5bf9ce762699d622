import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { isMetricsAnswer, type MetricsRequest } from './ipc.ts';
import { maintenanceRegistry } from './maintenance-metrics.ts';
import { register } from './metrics.ts';

/** Where a scrape's text comes from in this process. */
export type MetricsSource = () => Promise<string>;

/** A primary that does not answer in this time fails the scrape (prom-client's own wait for workers is 5 s). */
const ANSWER_TIMEOUT_MS = 10_000;

/** A single process: its own registries are the whole server. */
const local: MetricsSource = async () => (await register.metrics()) + (await maintenanceRegistry.metrics());

/**
 * In a worker: asks the primary, which sums every worker's metrics. Creating the AggregatorRegistry
 * is what makes prom-client answer the primary's requests for this worker's share.
 */
function viaPrimary(): MetricsSource {
  new AggregatorRegistry();
  let next = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isMetricsAnswer(message)) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(new Error(message.error));
    else pending?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary did not answer with the metrics'));
      }, ANSWER_TIMEOUT_MS);
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          done(value);
        };
      waiting.set(id, { resolve: settle(resolve), reject: settle(reject) });
      const request: MetricsRequest = { type: 'berth:metrics-request', id };
      process.send?.(request);
    });
}

let source: MetricsSource | undefined;

/** This process's source, made once: the worker's listener must be added only once. */
export function metricsSource(): MetricsSource {
  source ??= cluster.isWorker ? viaPrimary() : local;
  return source;
}
