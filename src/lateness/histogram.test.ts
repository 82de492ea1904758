import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.js';
import { bucketOf, bucketWidth, isBoundary } from '../shared/three-digits.js';

describe('Histogram', () => {
  it('has a bucket per ms below 1 s and three significant digits above', () => {
    expect([0, 1, 999, 1_000, 1_009, 12_345, 15_000, 999_999, 1_234_567].map(bucketOf)).toEqual([
      0, 1, 999, 1_000, 1_000, 12_300, 15_000, 999_000, 1_230_000,
    ]);
    expect([999, 1_000, 12_300, 1_230_000].map(bucketWidth)).toEqual([1, 10, 100, 10_000]);
    for (const delay of [0, 15_000, 30_000, 60_000, 90_000, 300_000, 3_600_000, 5_400_000])
      expect(isBoundary(delay)).toBe(true);
    expect(isBoundary(1_001_000)).toBe(false);
  });

  it('counts values at or above a boundary exactly, and puts each value in its bucket', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 12_000_000 }),
        (values, probe) => {
          const histogram = new Histogram();
          for (const value of values) histogram.add(value);
          const boundary = bucketOf(probe);
          expect(histogram.countAtLeast(boundary)).toBe(values.filter((value) => value >= boundary).length);
          for (const value of values) expect(value - bucketOf(value)).toBeLessThan(bucketWidth(bucketOf(value)));
          expect(histogram.count).toBe(values.length);
          expect(histogram.max).toBe(Math.max(0, ...values));
        },
      ),
    );
    expect(() => new Histogram().countAtLeast(12_345)).toThrow(RangeError);
  });

  it('holds a bounded number of buckets however many values are added', () => {
    const histogram = new Histogram();
    let state = 1;
    for (let index = 0; index < 300_000; index += 1) {
      state = (state * 48_271) % 2_147_483_647;
      histogram.add(state % 1_000_000_000);
    }
    // 1,000 below 1 s, then at most 900 per power of ten up to 10^9.
    expect(histogram.size).toBeLessThanOrEqual(1_000 + 6 * 900);
    expect(histogram.count).toBe(300_000);
  });

  it('merges', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.add(5);
    b.add(5);
    b.add(40_000);
    expect(a.merge(b).sorted()).toEqual([
      [5, 2],
      [40_000, 1],
    ]);
    expect(a.max).toBe(40_000);
  });
});
