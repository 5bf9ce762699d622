/** What a transfer did with one blob. */
export type BlobOutcome = 'fetched' | 'present' | 'uploaded' | 'mounted' | 'exists';

/** Receives the progress of blob transfers; the library calls it, the CLI shows it (cli/progress-display.ts). */
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
