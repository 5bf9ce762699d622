import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { isMetricsRequest, type MetricsAnswer } from './ipc.ts';
import { maintenanceRegistry } from './maintenance-metrics.ts';

/**
 * In the primary of a cluster: the whole server's metrics, every worker's summed (prom-client asks
 * each over IPC), and the retention runs the primary makes itself. Answers workers that took a scrape
 * on the main listener. The primary loads no express.
 */
export function clusterMetrics(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  const whole = async () => (await aggregator.clusterMetrics()) + (await maintenanceRegistry.metrics());
  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsRequest(message)) return;
    const answer = (fields: Partial<MetricsAnswer>) => {
      if (worker.isConnected()) worker.send({ type: 'berth:metrics-answer', id: message.id, ...fields } satisfies MetricsAnswer);
    };
    whole().then(
      (text) => answer({ text }),
      (error: Error) => answer({ error: error.message }),
    );
  });
  return whole;
}
