/**
 * Three significant decimal digits: the buckets of the lateness histograms (lateness/histogram.ts).
 * Values below 1,000 have a bucket each; larger ones share a bucket with the values that agree in
 * their first three digits. A watermark delay `kappa lateness` prices exactly is a bucket
 * boundary, which the configuration checks too (config/parsers.ts): so it lives below both.
 */

/** The lower bound of the bucket holding `value` (an integer ≥ 0). */
export function bucketOf(value: number): number {
  if (value < 1_000) return value;
  let step = 1;
  while (value >= 1_000 * step) step *= 10;
  return Math.floor(value / step) * step;
}

/** The width of the bucket starting at `lower` (a boundary). */
export function bucketWidth(lower: number): number {
  let step = 1;
  while (lower >= 1_000 * step) step *= 10;
  return step;
}

/** Whether counts at or above `value` are exact: a whole number of ms that starts its own bucket. */
export function isBoundary(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && bucketOf(value) === value;
}

/** Why `delayMs` cannot be answered exactly, or undefined when it can. */
export function delayProblem(delayMs: number): string | undefined {
  return isBoundary(delayMs)
    ? undefined
    : `${delayMs} ms has more than three significant digits; use e.g. ${nextRound(delayMs)} ms`;
}

/** The smallest boundary at or above `value`: rounded up to three significant digits. */
export function nextRound(value: number): number {
  let step = 1;
  while (Math.round(value) >= 1_000 * step) step *= 10;
  return Math.ceil(value / step) * step;
}
