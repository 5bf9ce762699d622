import { register } from 'prom-client';

/** One sample as prom-client's registry prints and its cluster aggregation sums them. */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  /** For a histogram's `_bucket`, `_sum` and `_count` lines. */
  metricName?: string;
}

/**
 * Registers a metric whose samples are computed when scraped, from numbers the hot path keeps as
 * plain fields: prom-client's own `inc` and `observe` check and hash their labels on every call
 * (some 1-2 µs each, several per request), these tables cost one lookup and a few additions.
 */
export function exportMetric(name: string, help: string, type: 'counter' | 'histogram', samples: () => Sample[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: samples() }),
    reset: () => undefined,
  };
  register.registerMetric(metric as unknown as Parameters<typeof register.registerMetric>[0]);
}

/** Counts per bucket (not cumulative), plus the sum and count: one histogram series. */
export class Buckets {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Adds another series' counts (a histogram with fewer labels than the rows it sums). */
  add(other: Buckets): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sum += other.sum;
    this.count += other.count;
  }

  /** The `_bucket` (cumulative, with `+Inf`), `_sum` and `_count` samples under `labels`. */
  samples(name: string, labels: Record<string, string>): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      out.push({ labels: { ...labels, le: this.bounds[i]! }, value: cumulative, metricName: `${name}_bucket` });
    }
    out.push({ labels: { ...labels, le: '+Inf' }, value: this.count, metricName: `${name}_bucket` });
    out.push({ labels, value: this.sum, metricName: `${name}_sum` });
    out.push({ labels, value: this.count, metricName: `${name}_count` });
    return out;
  }
}

/** A two-level table of rows, made on first use: label values never get joined into a key string per call. */
export class Table2<Row> {
  readonly rows = new Map<string, Map<string, Row>>();

  constructor(private readonly make: () => Row) {}

  row(a: string, b: string): Row {
    let inner = this.rows.get(a);
    if (!inner) this.rows.set(a, (inner = new Map()));
    let row = inner.get(b);
    if (!row) inner.set(b, (row = this.make()));
    return row;
  }

  *entries(): Generator<[string, string, Row]> {
    for (const [a, inner] of this.rows) for (const [b, row] of inner) yield [a, b, row];
  }
}
