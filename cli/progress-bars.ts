import { MultiBar, Presets, type Options, type SingleBar } from 'cli-progress';
import type { BlobOutcome, TransferProgress } from '../client/progress.ts';
import { formatBytes } from './format-bytes.ts';
import { rate, short } from './progress-display.ts';

/** Byte counts in binary units, padded so that the columns of the bars stay put as numbers grow. */
const formatValue: Options['formatValue'] = (value, options, type) => {
  if (type === 'value' || type === 'total') return formatBytes(value).padStart(9);
  return type === 'percentage' ? String(value).padStart(3) : String(value);
};

/** A bar and what its rate is taken over: the bytes since it started, and when it started. */
interface Meter {
  bar: SingleBar;
  started: number;
  bytes: number;
}

/** Per-blob bars under a total bar, on a terminal: sizes in KiB/MiB/GiB, and each one's rate so far. */
export class BarProgress implements TransferProgress {
  private readonly bars: MultiBar;
  private readonly total: Meter;
  private readonly perBlob = new Map<string, Meter>();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.bars = new MultiBar(
      { stream, format: ' {name} [{bar}] {percentage}% | {value}/{total} | {rate}', formatValue, hideCursor: true, forceRedraw: true },
      Presets.shades_classic,
    );
    this.total = this.meter(0, 'total');
  }

  private meter(total: number, name: string): Meter {
    return { bar: this.bars.create(total, 0, { name, rate: '' }), started: Date.now(), bytes: 0 };
  }

  private move(meter: Meter | undefined, bytes: number): void {
    if (!meter) return;
    meter.bytes += bytes;
    meter.bar.increment(bytes, { rate: rate(meter.bytes, Date.now() - meter.started) });
  }

  start(digest: string, total: number): void {
    this.total.bar.setTotal(this.total.bar.getTotal() + total);
    this.perBlob.set(digest, this.meter(total, short(digest)));
  }

  advance(digest: string, bytes: number): void {
    this.move(this.perBlob.get(digest), bytes);
    this.move(this.total, bytes);
  }

  rewind(digest: string, bytes: number): void {
    this.advance(digest, -bytes);
  }

  /** A transferred blob's bar stays, full; blobs that moved no bytes only count in the summary. */
  finish(digest: string, outcome: BlobOutcome): void {
    const meter = this.perBlob.get(digest);
    meter?.bar.update(meter.bar.getTotal(), { name: `${short(digest)} ${outcome}` });
  }

  close(): void {
    this.bars.stop();
  }
}
