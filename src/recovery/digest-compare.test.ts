import { describe, expect, it } from 'vitest';
import { compareDigests } from './digest-compare.js';

const closed = (throughA: number, throughB: number) => ({
  from: { sizeMs: 10, closedThrough: throughA },
  to: { sizeMs: 10, closedThrough: throughB },
});
const d = (digest: bigint, total: number) => ({ digest, total });

describe('compareDigests', () => {
  it('compares only windows closed in both, in window order', () => {
    const from = new Map([
      [0, d(5n, 1)],
      [10, d(6n, 2)],
      [20, d(7n, 3)],
      [30, d(8n, 4)],
    ]);
    const to = new Map([
      [0, d(5n, 1)],
      [10, d(9n, 2)],
      [30, d(1n, 1)],
    ]);
    const result = compareDigests(from, to, closed(40, 30));
    expect(result.windows).toBe(3);
    expect(result.notClosed).toBe(1);
    expect(result.differing).toEqual([
      { windowStart: 10, from: d(6n, 2), to: d(9n, 2) },
      { windowStart: 20, from: d(7n, 3) },
    ]);
  });

  it('finds nothing between equal versions', () => {
    const same = new Map([[0, d(1n, 1)]]);
    expect(compareDigests(same, new Map(same), closed(10, 10))).toEqual({ windows: 1, differing: [], notClosed: 0 });
  });
});
