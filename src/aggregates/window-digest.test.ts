import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIGEST_MODULUS, digestIncrements, keyHash } from './window-digest.js';
import type { WindowRow } from './window-engine.js';

const row = (windowStart: number, key: string, count: number, dim = 'user'): WindowRow => ({
  windowStart,
  windowEnd: windowStart + 10_000,
  dim,
  key,
  count,
});

/** The digest of a window's FINAL rows, computed directly: what every order of increments must give. */
function finalDigest(rows: readonly WindowRow[]): Map<string, bigint> {
  const totals = new Map<string, number>();
  for (const entry of rows) {
    const slot = `${entry.windowStart}|${entry.key}`;
    totals.set(slot, (totals.get(slot) ?? 0) + entry.count);
  }
  const digests = new Map<string, bigint>();
  for (const [slot, count] of totals) {
    const [start, key] = [slot.slice(0, slot.indexOf('|')), slot.slice(slot.indexOf('|') + 1)];
    digests.set(start, ((digests.get(start) ?? 0n) + BigInt(count) * keyHash('user', key)) % DIGEST_MODULUS);
  }
  return digests;
}

/** Increments applied commit by commit, as the sink's upserts add them. */
function applied(commits: readonly (readonly WindowRow[])[]): Map<string, bigint> {
  const digests = new Map<string, bigint>();
  for (const commit of commits)
    for (const entry of digestIncrements(commit, ['user'])) {
      const start = String(entry.windowStart);
      digests.set(start, ((digests.get(start) ?? 0n) + entry.digest) % DIGEST_MODULUS);
    }
  return digests;
}

const rows = fc.array(
  fc.record({
    windowStart: fc.integer({ min: 0, max: 4 }).map((n) => n * 10_000),
    key: fc.constantFrom('Kim', 'KIM', 'Lee', 'Lee ', 'Unknown Name', 'Lée'),
    count: fc.integer({ min: 1, max: 1_000_000 }),
  }),
  { maxLength: 60 },
);

describe('window digests', () => {
  it('are a function of the final rows, whatever the order and split of the increments', () => {
    fc.assert(
      fc.property(
        rows,
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        (drawn, order, parts) => {
          const increments = drawn.map((entry) => row(entry.windowStart, entry.key, entry.count));
          const shuffled = [...increments];
          for (const [i, pick] of order.entries()) {
            const [a, b] = [i % shuffled.length, pick % shuffled.length];
            if (shuffled.length > 0) [shuffled[a], shuffled[b]] = [shuffled[b] as WindowRow, shuffled[a] as WindowRow];
          }
          const commits = Array.from({ length: parts }, (_, part) => shuffled.filter((_, i) => i % parts === part));
          expect(applied(commits)).toEqual(finalDigest(increments));
        },
      ),
    );
  });

  it('change when any single row changes by any amount', () => {
    fc.assert(
      fc.property(
        rows,
        fc.nat(),
        fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((d) => d !== 0),
        (drawn, at, delta) => {
          fc.pre(drawn.length > 0);
          const before = drawn.map((entry) => row(entry.windowStart, entry.key, entry.count));
          const changed = before[at % before.length] as WindowRow;
          const after = [...before, row(changed.windowStart, changed.key, delta)];
          expect(finalDigest(after).get(String(changed.windowStart))).not.toBe(
            finalDigest(before).get(String(changed.windowStart)),
          );
        },
      ),
    );
  });

  it('hash the key as SQL stores it: text exactly, numbers as their decimal text', () => {
    expect(keyHash('user', 'Kim')).not.toBe(keyHash('user', 'KIM'));
    expect(keyHash('user', 'Lee')).not.toBe(keyHash('user', 'Lee '));
    expect(keyHash('age', '27')).toBe(keyHash('user', '27'));
    expect(keyHash('user', 'Kim') % 2n).toBe(1n);
  });

  it('group a commit by dimension and window, dimensions in their order', () => {
    const increments = digestIncrements(
      [row(10_000, 'Kim', 2, 'dept'), row(0, 'Kim', 1), row(0, 'Lee', 3), row(0, 'IT', 1, 'dept')],
      ['user', 'dept'],
    );
    expect(increments.map((entry) => [entry.dim, entry.windowStart, entry.total])).toEqual([
      ['user', 0, 4],
      ['dept', 0, 1],
      ['dept', 10_000, 2],
    ]);
  });
});
