/** Medians and pairwise ratios: robust to the odd slow run on a shared machine. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of berth[i] / reference[i] over runs measured as interleaved pairs. */
export function medianRatio(berth: number[], reference: number[]): number {
  return median(berth.map((value, i) => value / reference[i]!));
}
