import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffTables } from './catch-up.js';
import { closedInBothThrough, LiveDiff } from './live-diff.js';

const table = fc
  .array(
    fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('Kim', 'Lee', 'Park'), fc.integer({ min: 1, max: 9 })),
    { maxLength: 60 },
  )
  .map((rows) => new Map(rows.map(([window, key, count]) => [`${window * 10_000}|${key}`, count])));

const range = (rows: Map<string, number>, after: number, through: number) =>
  new Map([...rows].filter(([row]) => Number(row.split('|')[0]) > after && Number(row.split('|')[0]) <= through));

describe('LiveDiff', () => {
  it('adding newly closed windows pass by pass gives kappa diff figures over the same windows', () => {
    fc.assert(
      fc.property(table, table, fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 5 }), (a, b, cuts) => {
        const live = new LiveDiff('v1', 'v2', ['user']);
        for (const cut of [...cuts, 20].map((window) => window * 10_000).sort((x, y) => x - y)) {
          if (cut <= live.comparedThrough) continue;
          live.add('user', range(a, live.comparedThrough, cut), range(b, live.comparedThrough, cut));
          live.advance(cut);
        }
        const whole = diffTables(a, b);
        const [doc] = live.document('user', Number.POSITIVE_INFINITY);
        expect(doc).toMatchObject({
          totalFrom: whole.totalFrom,
          totalTo: whole.totalTo,
          differing: whole.differing.length,
          onlyFrom: whole.onlyFrom.length,
          onlyTo: whole.onlyTo.length,
        });
        expect(doc?.rows).toHaveLength(whole.differing.length + whole.onlyFrom.length + whole.onlyTo.length);
      }),
    );
  });

  it('compares a window once it is closed in both versions', () => {
    expect(closedInBothThrough([100_000, 70_000], [10_000, 10_000])).toBe(60_000);
    expect(closedInBothThrough([Number.NEGATIVE_INFINITY, 70_000], [10_000, 10_000])).toBe(Number.NEGATIVE_INFINITY);
  });
});
