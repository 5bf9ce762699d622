import type { MachineLimits } from './machine.ts';

/** One workload's figures: every run of each server, their medians and the pairwise ratio. */
export interface WorkloadResult {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  /** fs, s3 (s3rver on loopback), or s3 with a bucket's latency per request (`s3 +15 ms`). */
  storage: string;
  berth: number[];
  distribution: number[];
  berthMedian: number;
  distributionMedian: number;
  /** Median of berth[i] / distribution[i]. */
  ratio: number;
  /** The floor the issue sets on `advantage`, if any. */
  floor?: number;
}

/** Peak resident memory (VmHWM) of a server's processes. */
export interface PeakMemory {
  /** Of its largest process: the one that took a push. */
  largestMB: number;
  /** Summed over its processes (Berth: the primary and its workers). */
  totalMB: number;
  processes: number;
}

export interface BenchResults {
  date: string;
  machine: MachineLimits;
  workloads: WorkloadResult[];
  /** Workloads that failed on either server, with the first line of the error. */
  failures: { workload: string; storage: string; reason: string }[];
  /** Measured right after the 1 GiB pushes on fresh servers; absent when that workload did not run. */
  peakRss?: { berth: PeakMemory; distribution: PeakMemory };
}

/** How many times better Berth is: the ratio, inverted for durations. */
export function advantage(result: WorkloadResult): number {
  return result.higherIsBetter ? result.ratio : 1 / result.ratio;
}

function figure(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

export function markdown(results: BenchResults): string {
  const m = results.machine;
  const lateDisk = m.diskWriteLateMBps === undefined ? '' : ` (${figure(m.diskWriteLateMBps)} right before the 1 GiB pushes)`;
  const ceilings = [
    `sha256 ${figure(m.sha256MBps)} MB/s`,
    `disk write through the page cache (flushed) ${figure(m.diskWriteMBps)} MB/s${lateDisk}`,
    ...(m.diskDirectWriteMBps === undefined ? [] : [`disk write past it (O_DIRECT, flushed) ${figure(m.diskDirectWriteMBps)} MB/s`]),
    `loopback HTTP ${figure(m.loopbackMBps)} MB/s`,
    ...(m.s3GetMBps === undefined ? [] : [`S3 GET straight from s3rver ${figure(m.s3GetMBps)} MB/s (median, as many GETs as the downloads)`]),
  ];
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}. Ceilings: ${ceilings.join(', ')}.`,
    '',
    '| workload | storage | unit | Berth (median) | Distribution (median) | Berth/Distribution (median of pairs) | Berth is | floor |',
    '|---|---|---|---:|---:|---:|---:|---|',
  ];
  for (const r of results.workloads) {
    const better = advantage(r);
    const compared = Number.isFinite(better);
    const floor = r.floor === undefined || !compared ? '' : better >= r.floor ? `≥ ${r.floor}× ✓` : `≥ ${r.floor}× ✗`;
    // Three decimals where two would round a miss up to the floor (1.198 is not 1.20).
    const digits = r.floor !== undefined && better < r.floor && better.toFixed(2) === r.floor.toFixed(2) ? 3 : 2;
    const verdict = compared ? `${better.toFixed(digits)}× ${better >= 1 ? 'better' : 'worse'}` : '—';
    lines.push(
      `| ${r.name} | ${r.storage} | ${r.unit} | ${figure(r.berthMedian)} | ${figure(r.distributionMedian)} | ${compared ? r.ratio.toFixed(digits) : '—'} | ${verdict} | ${floor} |`,
    );
  }
  const notes = results.failures.map((failure) => `Not measured: ${failure.workload} (${failure.storage}): ${failure.reason}`);
  const rss = results.peakRss;
  if (!rss) return [...lines, '', ...notes].join('\n');
  const { berth, distribution } = rss;
  lines.push(
    `| peak RSS during 1 GiB pushes, largest process | fs | MB | ${berth.largestMB.toFixed(0)} | ${distribution.largestMB.toFixed(0)} | ${(berth.largestMB / distribution.largestMB).toFixed(2)} | | < 150 MB ${berth.largestMB < 150 ? '✓' : '✗'} |`,
    `| peak RSS, all processes (Berth: primary + ${berth.processes - 1} workers) | fs | MB | ${berth.totalMB.toFixed(0)} | ${distribution.totalMB.toFixed(0)} | ${(berth.totalMB / distribution.totalMB).toFixed(2)} | | |`,
  );
  return [...lines, '', ...notes].join('\n');
}
