import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { isMetricsRequest, type MetricsAnswer } from './ipc.ts';

/**
 * In the primary of a cluster: the whole server's metrics, every worker's summed (prom-client asks
 * each over IPC). Answers workers that took a scrape on the main listener. The primary registers no
 * metrics of its own and loads no express.
 */
export function clusterMetrics(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsRequest(message)) return;
    const answer = (fields: Partial<MetricsAnswer>) => {
      if (worker.isConnected()) worker.send({ type: 'berth:metrics-answer', id: message.id, ...fields } satisfies MetricsAnswer);
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (error: Error) => answer({ error: error.message }),
    );
  });
  return () => aggregator.clusterMetrics();
}
