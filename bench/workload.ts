import { availableParallelism } from 'node:os';
import type { BenchServer } from './servers.ts';

/** One thing measured on both servers, interleaved run by run. */
export interface Workload {
  name: string;
  unit: string;
  /** Throughput and rates: higher is better; durations: lower is. */
  higherIsBetter: boolean;
  runs: number;
  /** Per server, before its first run (content to read, say); not timed. */
  setup?(server: BenchServer): Promise<void>;
  /** One timed run; returns the figure in `unit`. */
  measure(server: BenchServer, run: number): Promise<number>;
}

export const MiB = 1024 * 1024;

export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

/**
 * Untimed, once per process a new connection may land on (Berth's workers take connections in
 * turn): timed runs then meet warm code, as a long-running registry's clients do.
 */
export async function warmUp(request: () => Promise<unknown>): Promise<void> {
  for (let turn = 0; turn < availableParallelism(); turn++) await request();
}
