import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backlogDone,
  catchUpProblem,
  closedHorizons,
  CommitWatch,
  describeCatchUp,
  diffTables,
  lagOf,
} from './catch-up.js';

const offsets = (entries: Record<number, number>) =>
  new Map(Object.entries(entries).map(([partition, offset]) => [Number(partition), BigInt(offset)]));

describe('lagOf', () => {
  it('sums the records left per partition; a partition never committed is at 0', () => {
    const report = lagOf(offsets({ 0: 100, 1: 50, 2: 0 }), offsets({ 0: 100, 1: 20 }));
    expect(report).toMatchObject({ total: 150n, done: 120n, lag: 30n });
    expect(report.partitions.map((entry) => entry.lag)).toEqual([0n, 30n, 0n]);
  });

  it('done + lag = total, whatever the progress (progress past the end counts as done)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1_000), fc.nat(1_200)), { maxLength: 8 }), (pairs) => {
        const report = lagOf(
          new Map(pairs.map(([end], index) => [index, BigInt(end)])),
          new Map(pairs.map(([, next], index) => [index, BigInt(next)])),
        );
        expect(report.done + report.lag).toBe(report.total);
        expect(report.lag >= 0n).toBe(true);
      }),
    );
  });
});

describe('catchUpProblem', () => {
  const serving = { version: 'v1', topic: 'events_stages', progress: offsets({ 0: 100, 1: 80 }) };

  it('refuses a candidate behind the serving version in any partition, and says where', () => {
    const problem = catchUpProblem(
      { version: 'v2', topic: 'events_stages', progress: offsets({ 0: 100, 1: 79 }) },
      serving,
      offsets({ 0: 100, 1: 80 }),
    );
    expect(problem).toBe('v2 has not caught up with v1: partition 1 of events_stages is at offset 79, v1 at 80');
    expect(
      catchUpProblem({ version: 'v2', topic: 'events_stages', progress: offsets({ 0: 100 }) }, serving, offsets({})),
    ).toContain('partition 1 of events_stages is at offset 0');
  });

  it('accepts a candidate at least as far as the serving version in every partition', () => {
    expect(
      catchUpProblem(
        { version: 'v2', topic: 'events_stages', progress: offsets({ 0: 100, 1: 90 }) },
        serving,
        offsets({ 0: 200, 1: 200 }),
      ),
    ).toBeUndefined();
  });

  it('without a serving version on its topic, the candidate must have no lag on its own log', () => {
    const candidate = { version: 'v3', topic: 'events_stages_v2', progress: offsets({ 0: 10, 1: 5 }) };
    expect(catchUpProblem(candidate, serving, offsets({ 0: 10, 1: 7 }))).toBe(
      'v3 has not caught up: 2 records of events_stages_v2 still to process (partition 1 at offset 5 of 7)',
    );
    expect(catchUpProblem(candidate, undefined, offsets({ 0: 10, 1: 5 }))).toBeUndefined();
  });

  it('without end offsets of its log (a topic that is gone), a candidate has not caught up', () => {
    const candidate = { version: 'v3', topic: 'events_stages_v2', progress: offsets({ 0: 10, 1: 5 }) };
    expect(catchUpProblem(candidate, undefined, offsets({}))).toBe(
      'v3 has not caught up: events_stages_v2 has no partitions to read its end offsets from',
    );
  });
});

describe('diffTables', () => {
  it('reports differing rows, rows only on one side and both totals', () => {
    const diff = diffTables(
      new Map([
        ['0|Kim', 3],
        ['0|Lee', 2],
        ['10000|Kim', 1],
      ]),
      new Map([
        ['0|Kim', 5],
        ['0|Lee', 2],
        ['20000|Lee', 4],
      ]),
    );
    expect(diff).toEqual({
      differing: [{ key: '0|Kim', from: 3, to: 5 }],
      onlyFrom: ['10000|Kim'],
      onlyTo: ['20000|Lee'],
      totalFrom: 6,
      totalTo: 11,
      notClosedFrom: 0,
      notClosedTo: 0,
    });
  });

  it('the total difference is what the differing and one-sided rows add up to', () => {
    const table = fc
      .dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 1, max: 50 }))
      .map((entries) => new Map(Object.entries(entries)));
    fc.assert(
      fc.property(table, table, (from, to) => {
        const diff = diffTables(from, to);
        const explained =
          diff.differing.reduce((sum, row) => sum + row.to - row.from, 0) +
          diff.onlyTo.reduce((sum, key) => sum + (to.get(key) ?? 0), 0) -
          diff.onlyFrom.reduce((sum, key) => sum + (from.get(key) ?? 0), 0);
        expect(diff.totalTo - diff.totalFrom).toBe(explained);
        expect(diffTables(from, from)).toEqual({
          differing: [],
          onlyFrom: [],
          onlyTo: [],
          totalFrom: diff.totalFrom,
          totalTo: diff.totalFrom,
          notClosedFrom: 0,
          notClosedTo: 0,
        });
      }),
    );
  });
});

describe('diffTables over windows closed in both versions (like with like)', () => {
  const size = 10_000;
  it('compares only windows closed in both; windows still open in one are counted apart', () => {
    // v1 (watermark 15 s) closed windows through 40 s; v2 (60 s) only through 10 s.
    const v1 = new Map([
      ['0|Kim', 3],
      ['10000|Kim', 2],
      ['20000|Kim', 4],
    ]);
    const v2 = new Map([
      ['0|Kim', 5],
      ['0|Lee', 1],
    ]);
    const diff = diffTables(v1, v2, {
      from: { sizeMs: size, closedThrough: 40_000 },
      to: { sizeMs: size, closedThrough: 10_000 },
    });
    expect(diff).toEqual({
      differing: [{ key: '0|Kim', from: 3, to: 5 }],
      onlyFrom: [],
      onlyTo: ['0|Lee'],
      totalFrom: 3,
      totalTo: 6,
      notClosedFrom: 0,
      notClosedTo: 2,
    });
  });

  it('property: a replay with a longer watermark never shows rows only in the shorter one, nor a negative total', () => {
    // Model: events (time, key) of one partition in log order; a version counts an event when the
    // largest earlier time minus its delay has not reached the end of the event's window.
    const events = fc.array(fc.tuple(fc.integer({ min: 0, max: 120_000 }), fc.constantFrom('Kim', 'Lee')), {
      maxLength: 60,
    });
    const run = (log: readonly (readonly [number, string])[], delay: number, upTo: number) => {
      const table = new Map<string, number>();
      let max = Number.NEGATIVE_INFINITY;
      for (const [time, key] of log.slice(0, upTo)) {
        const start = Math.floor(time / size) * size;
        if (max - delay < start + size) table.set(`${start}|${key}`, (table.get(`${start}|${key}`) ?? 0) + 1);
        max = Math.max(max, time);
      }
      // Rows become visible once closed: only windows the watermark passed are in the table.
      const closedThrough = max - delay;
      return {
        table: new Map([...table].filter(([row]) => Number(row.split('|')[0]) + size <= closedThrough)),
        closedThrough,
      };
    };
    fc.assert(
      fc.property(events, fc.nat(), fc.nat(), (log, a, b) => {
        const v1 = run(log, 15_000, a % (log.length + 1));
        const v2 = run(log, 60_000, b % (log.length + 1));
        const diff = diffTables(v1.table, v2.table, {
          from: { sizeMs: size, closedThrough: v1.closedThrough },
          to: { sizeMs: size, closedThrough: v2.closedThrough },
        });
        expect(diff.onlyFrom).toEqual([]);
        expect(diff.differing.every((row) => row.to > row.from)).toBe(true);
        expect(diff.totalTo).toBeGreaterThanOrEqual(diff.totalFrom);
      }),
    );
  });
});

describe('closedHorizons', () => {
  it('is the lowest partition watermark; a partition one version has not reached closes nothing there', () => {
    expect(
      closedHorizons(
        new Map([
          [0, 50_000],
          [1, 40_000],
        ]),
        new Map([[0, 30_000]]),
      ),
    ).toEqual([40_000, Number.NEGATIVE_INFINITY]);
    expect(closedHorizons(new Map([[0, 10]]), new Map([[0, 20]]))).toEqual([10, 20]);
    // A partition without events in either version has no say.
    expect(
      closedHorizons(
        new Map([
          [0, 10],
          [1, null],
        ]),
        new Map([[0, 20]]),
      ),
    ).toEqual([10, 20]);
  });
});

describe('backlogDone: consumed to the end offsets observed when the replay started', () => {
  it('holds once every partition is at or past its target, however far the log has grown since', () => {
    expect(backlogDone(offsets({ 0: 100, 1: 50 }), offsets({ 0: 100, 1: 49 }))).toBe(false);
    expect(backlogDone(offsets({ 0: 100, 1: 50 }), offsets({ 0: 130, 1: 50 }))).toBe(true);
    expect(backlogDone(offsets({ 0: 100, 1: 0 }), offsets({ 0: 100 }))).toBe(true);
    expect(backlogDone(offsets({ 0: 1 }), offsets({}))).toBe(false);
  });

  it('never holds against targets without partitions: end offsets that could not be read are no backlog done', () => {
    // A topic always has partitions: an empty map is a read that failed, never an empty log.
    expect(backlogDone(offsets({}), offsets({}))).toBe(false);
    expect(backlogDone(offsets({}), offsets({ 0: 100 }))).toBe(false);
    expect(backlogDone(offsets({ 0: 0, 1: 0 }), offsets({}))).toBe(true);
  });

  it('property: done exactly when the lag against the targets is zero', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1_000), fc.nat(1_200)), { maxLength: 6 }), (pairs) => {
        const targets = new Map(pairs.map(([end], index) => [index, BigInt(end)]));
        const progress = new Map(pairs.map(([, next], index) => [index, BigInt(next)]));
        expect(backlogDone(targets, progress)).toBe(targets.size > 0 && lagOf(targets, progress).lag === 0n);
      }),
    );
  });
});

describe('CommitWatch: whether a commit may have caught the version up, between lag checks', () => {
  it('says so only once every partition has committed up to the end offsets last read', () => {
    const watch = new CommitWatch();
    expect(watch.committed(0, 100n)).toBe(false); // no end offsets read yet: a lag check decides
    watch.seen(offsets({ 0: 100, 1: 50, 2: 0 }));
    expect(watch.committed(1, 49n)).toBe(false);
    expect(watch.committed(1, 50n)).toBe(true); // partition 2 is empty: nothing to commit there
    watch.seen(offsets({ 0: 120, 1: 50, 2: 0 })); // the log grew
    expect(watch.committed(1, 50n)).toBe(false);
    expect(watch.committed(0, 120n)).toBe(true);
  });

  it('property: exactly backlogDone of the last ends read against the last commit of each partition', () => {
    const step = fc.oneof(
      fc.record({ commit: fc.tuple(fc.nat(3), fc.nat(1_000)) }),
      fc.record({ ends: fc.array(fc.nat(1_000), { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const watch = new CommitWatch();
        let ends = new Map<number, bigint>();
        const committed = new Map<number, bigint>();
        for (const next of steps) {
          if ('ends' in next) {
            ends = new Map(next.ends.map((end, partition) => [partition, BigInt(end)]));
            watch.seen(ends);
          } else {
            const [partition, offset] = next.commit;
            committed.set(partition, BigInt(offset));
            expect(watch.committed(partition, BigInt(offset))).toBe(backlogDone(ends, committed));
          }
        }
      }),
    );
  });
});

describe('describeCatchUp', () => {
  it('shows records done of total, the rate and the time left', () => {
    expect(describeCatchUp(lagOf(offsets({ 0: 100_000 }), offsets({ 0: 12_345 })), 43_828)).toBe(
      '12,345 / 100,000 records (12.3 %) · 43,828 events/s · ETA 2 s',
    );
    expect(describeCatchUp(lagOf(offsets({ 0: 10 }), offsets({})), 0)).toBe(
      '0 / 10 records (0.0 %) · 0 events/s · ETA ?',
    );
  });
});
