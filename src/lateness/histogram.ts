/**
 * A histogram of non-negative millisecond values with three significant decimal digits: values
 * below 1,000 ms have a bucket each, larger ones share a bucket with the values that agree in their
 * first three digits (12,345 ms is counted in [12,300, 12,400)). So its memory is bounded by the
 * range of the values (at most 900 buckets per power of ten), never by how many were added — and
 * every count at or above a bucket boundary is exact. Whole seconds up to 999 s, and the durations
 * people type (15 s, 90 s, 5 m, 1 h, 1.5 h), are all boundaries.
 */

import { bucketOf, isBoundary } from '../shared/three-digits.js';

/** Plain JSON form: [bucket lower bound, count] pairs, ascending. */
export type HistogramJson = readonly (readonly [number, number])[];

export interface HistogramState {
  readonly buckets: HistogramJson;
  readonly max: number;
}

export class Histogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private largest = 0;

  /** Adds one value (an integer ≥ 0). */
  add(value: number): void {
    const lower = bucketOf(value);
    this.buckets.set(lower, (this.buckets.get(lower) ?? 0) + 1);
    this.total += 1;
    if (value > this.largest) this.largest = value;
  }

  get count(): number {
    return this.total;
  }

  /** The largest value added, exactly (0 when empty). */
  get max(): number {
    return this.largest;
  }

  /** How many buckets are in use: the memory it holds. */
  get size(): number {
    return this.buckets.size;
  }

  /** Values ≥ `boundary`, exactly; `boundary` must be a bucket boundary (see isBoundary). */
  countAtLeast(boundary: number): number {
    if (!isBoundary(boundary)) throw new RangeError(`${boundary} ms is not a histogram boundary`);
    let count = 0;
    for (const [lower, n] of this.buckets) if (lower >= boundary) count += n;
    return count;
  }

  /**
   * The bucket (its lower bound) holding the value of rank ⌈q·count⌉, 1-based: the exact value
   * when it has at most three significant digits. 0 when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const [lower, n] of this.sorted()) {
      seen += n;
      if (seen >= rank) return lower;
    }
    return bucketOf(this.largest);
  }

  merge(other: Histogram): this {
    for (const [lower, n] of other.buckets) this.buckets.set(lower, (this.buckets.get(lower) ?? 0) + n);
    this.total += other.total;
    if (other.largest > this.largest) this.largest = other.largest;
    return this;
  }

  clone(): Histogram {
    return new Histogram().merge(this);
  }

  sorted(): HistogramJson {
    return [...this.buckets.entries()].sort(([a], [b]) => a - b);
  }

  /** Plain data (structured-clone safe: a worker thread sends it back). */
  toJSON(): HistogramState {
    return { buckets: this.sorted(), max: this.largest };
  }

  static fromJSON(state: HistogramState): Histogram {
    const histogram = new Histogram();
    for (const [lower, n] of state.buckets) {
      histogram.buckets.set(lower, n);
      histogram.total += n;
    }
    histogram.largest = state.max;
    return histogram;
  }
}
