/** The total of some byte counts (a module of its own so the gc and analysis modules share it without importing each other). */
export function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
