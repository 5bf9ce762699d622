import type { DeepReport, SkipKind } from '../analysis/deep-analysis.ts';

function layers(count: number): string {
  return `${count} layer${count === 1 ? '' : 's'}`;
}

/** Why each kind of layer was skipped, and whether the file figures miss anything for it. */
const KINDS: Record<SkipKind, (count: number) => string> = {
  artifact: (count) => `${layers(count)} of artifacts, not filesystems (charts, signatures, SBOMs: nothing missed)`,
  missing: (count) => `${layers(count)} missing from the store (foreign layers, or damage)`,
  unreadable: (count) => `${layers(count)} not readable as tar (damaged, or a compression the scan does not know)`,
};

/**
 * One line for the layers `--deep` could not scan, instead of one per layer: how many, why, and
 * what it does to the figures; where to find each layer is `details` (--verbose, the JSON).
 */
export function skippedLayersSummary(deep: DeepReport, details: string): string | undefined {
  const skipped = deep.layersSkipped;
  if (skipped.length === 0) return undefined;
  const kinds = (Object.keys(KINDS) as SkipKind[])
    .map((kind) => [kind, skipped.filter((layer) => layer.kind === kind).length] as const)
    .filter(([, count]) => count > 0);
  const missed = skipped.some((layer) => layer.kind !== 'artifact');
  const effect = missed ? 'their files are not counted, so the file, duplicate and wasted figures are lower bounds' : 'the figures miss no image files';
  return `${layers(skipped.length)} not scanned: ${kinds.map(([kind, count]) => KINDS[kind](count)).join('; ')}; ${effect} (${details})`;
}
