import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** What a transfer did with one blob. */
export type BlobOutcome = 'fetched' | 'present' | 'uploaded' | 'mounted' | 'exists';

/** Receives the progress of blob transfers; the library calls it, the CLI shows it. */
export interface TransferProgress {
  start(digest: string, total: number): void;
  /** `bytes` more arrived or left for this blob. */
  advance(digest: string, bytes: number): void;
  /** `bytes` already counted in advance() are being sent again (a restarted transfer). */
  rewind(digest: string, bytes: number): void;
  finish(digest: string, outcome: BlobOutcome, size: number): void;
  close(): void;
}

export const silentProgress: TransferProgress = {
  start: () => undefined,
  advance: () => undefined,
  rewind: () => undefined,
  finish: () => undefined,
  close: () => undefined,
};

function short(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

/** Per-blob bars under a total bar, on a terminal. */
export class BarProgress implements TransferProgress {
  private readonly bars: MultiBar;
  private readonly total: SingleBar;
  private readonly perBlob = new Map<string, SingleBar>();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.bars = new MultiBar(
      { stream, format: ' {name} [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true, autopadding: true, forceRedraw: true },
      Presets.shades_classic,
    );
    this.total = this.bars.create(0, 0, { name: 'total' });
  }

  start(digest: string, total: number): void {
    this.total.setTotal(this.total.getTotal() + total);
    this.perBlob.set(digest, this.bars.create(total, 0, { name: short(digest) }));
  }

  advance(digest: string, bytes: number): void {
    this.perBlob.get(digest)?.increment(bytes);
    this.total.increment(bytes);
  }

  rewind(digest: string, bytes: number): void {
    this.perBlob.get(digest)?.increment(-bytes);
    this.total.increment(-bytes);
  }

  /** A transferred blob's bar stays, full; blobs that moved no bytes only count in the summary. */
  finish(digest: string, outcome: BlobOutcome): void {
    const bar = this.perBlob.get(digest);
    bar?.update(bar.getTotal(), { name: `${short(digest)} ${outcome}` });
  }

  close(): void {
    this.bars.stop();
  }
}

/** One quiet line per blob once it is done, for logs and pipelines. */
export class LineProgress implements TransferProgress {
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  start(): void {}

  advance(): void {}

  rewind(): void {}

  finish(digest: string, outcome: BlobOutcome, size: number): void {
    this.write(`${short(digest)}: ${outcome} (${size} bytes)`);
  }

  close(): void {}
}
