import type { BlobOutcome, TransferProgress } from '../client/progress.ts';
import { formatBytes } from './format-bytes.ts';

/** A digest's first 12 hex digits, as docker shows layers. */
export function short(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

/** Bytes per second over `ms`, as `12.3 MiB/s`. */
export function rate(bytes: number, ms: number): string {
  return `${formatBytes(Math.round((bytes * 1000) / Math.max(ms, 1)))}/s`;
}

/** One quiet line per blob once it is done, for logs and pipelines: its size, and for a transfer its time and rate. */
export class LineProgress implements TransferProgress {
  private readonly started = new Map<string, number>();

  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  start(digest: string): void {
    this.started.set(digest, Date.now());
  }

  advance(): void {}

  rewind(): void {}

  finish(digest: string, outcome: BlobOutcome, size: number): void {
    const started = this.started.get(digest);
    const ms = started === undefined ? undefined : Date.now() - started;
    const timing = ms === undefined ? '' : ` in ${(ms / 1000).toFixed(1)} s, ${rate(size, ms)}`;
    this.write(`${short(digest)}: ${outcome} ${formatBytes(size)}${timing}`);
  }

  close(): void {}
}
