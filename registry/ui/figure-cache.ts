import { analyze, type AnalysisReport, type ImageFigures, type RepositoryFigures } from '../../analysis/analysis.ts';
import type { DeepReport } from '../../analysis/deep-analysis.ts';
import { Digest } from '../../oci/digest.ts';
import { ManifestGraph } from '../../storage/manifest-graph.ts';
import type { Store } from '../../storage/store.ts';
import pMap from 'p-map';

/** What the pages show that needs the whole store: computed in the background, never per request. */
export interface Figures {
  at: Date;
  report: AnalysisReport;
  repositories: Map<string, RepositoryFigures>;
  /** Per repository, the latest push of a tagged manifest. */
  lastPush: Map<string, Date>;
  /** Blob digest → the images (indices into `report.images`) reaching it. */
  users: Map<string, number[]>;
}

/** The last deep scan (file-level figures), kept across the cheaper refreshes. */
export interface DeepScan {
  at: Date;
  report: DeepReport;
}

/** A failed run is retried no sooner than this, so a broken store is not analysed on every page. */
const RETRY_MS = 30_000;

/**
 * The dedup-aware figures (analysis/analysis.ts) and a blob → images index, recomputed in the
 * background when a page finds them older than `refreshMs` or after a delete from the pages: a page
 * answers at once with what is known, and says how old it is. One run at a time per process.
 */
export class FigureCache {
  private figures?: Figures;
  private deep?: DeepScan;
  private running?: Promise<void>;
  private deepRunning?: Promise<void>;
  private stale = false;
  private failedAt = 0;

  constructor(
    private readonly store: Store,
    private readonly refreshMs: number,
    private readonly log: (message: string) => void,
  ) {}

  /** The figures known now (undefined until the first run ends); starts a run when they are old. */
  current(): Figures | undefined {
    const old = !this.figures || this.stale || Date.now() - this.figures.at.getTime() > this.refreshMs;
    if (old && !this.running && Date.now() - this.failedAt > RETRY_MS) this.running = this.run();
    return this.figures;
  }

  /** Whether a run is under way (the pages poll until it ends). */
  get computing(): boolean {
    return this.running !== undefined;
  }

  lastDeepScan(): DeepScan | undefined {
    return this.deep;
  }

  get deepScanning(): boolean {
    return this.deepRunning !== undefined;
  }

  /** Something changed (a delete from the pages): the next page starts a run. */
  invalidate(): void {
    this.stale = true;
  }

  /** Starts a deep scan (it opens every layer) unless one is under way. */
  startDeepScan(): void {
    this.deepRunning ??= analyze(this.store, { deep: true })
      .then(
        (report) => {
          if (report.deep) this.deep = { at: new Date(report.generatedAt), report: report.deep };
        },
        (error: unknown) => this.log(`web interface: the deep scan failed: ${describe(error)}`),
      )
      .finally(() => (this.deepRunning = undefined));
  }

  private async run(): Promise<void> {
    this.stale = false;
    try {
      this.figures = await computeFigures(this.store);
    } catch (error) {
      this.failedAt = Date.now();
      this.log(`web interface: computing the storage figures failed: ${describe(error)}`);
    } finally {
      this.running = undefined;
    }
  }
}

async function computeFigures(store: Store): Promise<Figures> {
  const report = await analyze(store);
  const graph = new ManifestGraph(store.blobs);
  const users = new Map<string, number[]>();
  const lastPush = new Map<string, Date>();
  await pMap(
    [...report.images.entries()],
    async ([index, image]: [number, ImageFigures]) => {
      const digest = Digest.parse(image.digest);
      const [reached, times] = await Promise.all([graph.reach(digest), store.times.read(image.repository, digest)]);
      for (const blob of reached.keys()) {
        const list = users.get(blob);
        if (list) list.push(index);
        else users.set(blob, [index]);
      }
      const known = lastPush.get(image.repository);
      if (times.pushed && (!known || times.pushed > known)) lastPush.set(image.repository, times.pushed);
    },
    { concurrency: 32 },
  );
  return { at: new Date(report.generatedAt), report, repositories: new Map(report.repositories.map((figures) => [figures.name, figures])), lastPush, users };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
