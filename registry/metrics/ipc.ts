/**
 * Messages between a worker and the primary for a scrape on the main listener: the worker that took
 * `/metrics` asks, the primary gathers every worker's metrics (prom-client's AggregatorRegistry)
 * and answers with the summed text. Kept free of prom-client so either side can import it.
 */
export interface MetricsRequest {
  type: 'berth:metrics-request';
  id: number;
}

export interface MetricsAnswer {
  type: 'berth:metrics-answer';
  id: number;
  text?: string;
  error?: string;
}

export function isMetricsRequest(message: unknown): message is MetricsRequest {
  return (message as MetricsRequest | null)?.type === 'berth:metrics-request';
}

export function isMetricsAnswer(message: unknown): message is MetricsAnswer {
  return (message as MetricsAnswer | null)?.type === 'berth:metrics-answer';
}

/** Prometheus' text format, as prom-client writes it. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
