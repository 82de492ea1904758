import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionWindows } from '../aggregates/window-engine.js';
import { type WindowSettings } from '../model/window-settings.js';
import { explainRow, VersionReplay, type LoggedEvent } from './explain.js';

const USERS = ['Kim Minjun', 'Lee Seoyeon', 'Park Jiho'];

/** A version's tables as the aggregator writes them: every partition's emitted rows, summed. */
function tables(log: readonly LoggedEvent[], settings: WindowSettings): Map<string, number> {
  const partitions = new Map<number, PartitionWindows>();
  const rows = new Map<string, number>();
  for (const event of log) {
    let windows = partitions.get(event.partition);
    if (windows === undefined) {
      windows = new PartitionWindows(settings);
      partitions.set(event.partition, windows);
    }
    for (const row of windows.step({ time: event.time, keys: event.keys }).emitted) {
      const id = `${row.dim}|${row.windowStart}|${row.key}`;
      rows.set(id, (rows.get(id) ?? 0) + row.count);
    }
  }
  return rows;
}

function replay(version: string, log: readonly LoggedEvent[], settings: WindowSettings): VersionReplay {
  const replayed = new VersionReplay(version, settings, ['user'], () => true);
  for (const event of log) replayed.step(event);
  return replayed;
}

const arbitraryLog = fc
  .array(
    fc.record({
      partition: fc.integer({ min: 0, max: 2 }),
      step: fc.integer({ min: -30_000, max: 15_000 }),
      user: fc.integer({ min: 0, max: USERS.length - 1 }),
    }),
    { minLength: 1, maxLength: 200 },
  )
  .map((draws) => {
    const clock = new Map<number, number>();
    const offsets = new Map<number, bigint>();
    const event = (partition: number, time: number, user: string): LoggedEvent => {
      const offset = offsets.get(partition) ?? 0n;
      offsets.set(partition, offset + 1n);
      return { partition, offset, id: `${partition}-${offset}`, time, keys: { user } };
    };
    const log = draws.map((draw): LoggedEvent => {
      const time = Math.max(0, (clock.get(draw.partition) ?? 1_000_000) + draw.step);
      clock.set(draw.partition, Math.max(time, clock.get(draw.partition) ?? 0));
      return event(draw.partition, time, USERS[draw.user] as string);
    });
    // The stream runs on: each partition's last event is past every window above plus the longest delay,
    // so every drawn window closes in both versions and no run compares nothing.
    for (const [partition, time] of clock) log.push(event(partition, time + 60_000, 'Park Jiho'));
    return log;
  });

/** Every row that differs between two tables, closed windows only (both tables hold closed windows only). */
function differingRows(a: Map<string, number>, b: Map<string, number>) {
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((id) => (a.get(id) ?? 0) !== (b.get(id) ?? 0))
    .map((id) => {
      const [dim, start, key] = id.split('|') as [string, string, string];
      return { dim, key, windowStart: Number(start), from: a.get(id) ?? 0, to: b.get(id) ?? 0 };
    });
}

describe('explainRow', () => {
  it('explains every row a longer watermark changes, exactly and by lateness alone', () => {
    let explainedRows = 0;
    fc.assert(
      fc.property(arbitraryLog, fc.integer({ min: 0, max: 20_000 }), (log, extra) => {
        const v1: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 5_000 };
        const v2: WindowSettings = { ...v1, delayMs: 5_000 + extra };
        const [t1, t2] = [tables(log, v1), tables(log, v2)];
        const [r1, r2] = [replay('v1', log, v1), replay('v2', log, v2)];
        for (const row of differingRows(t1, t2)) {
          // A row only one version has closed is not compared by diff; the others must be exact.
          if (!r1.closed(row.windowStart) || !r2.closed(row.windowStart)) continue;
          const explained = explainRow(r1, r2, row.dim, row.key, row.windowStart, row);
          explainedRows += 1;
          expect(explained.exact, explained.problem).toBe(true);
          expect(explained.events).toHaveLength(row.to - row.from);
          expect(explained.byLateness).toBe(true);
          for (const event of explained.events) {
            expect(event.countedBy).toBe('v2');
            if (event.why.kind !== 'late') throw new Error('not late');
            expect(event.why.version).toBe('v1');
            expect(event.why.pastWindowEndMs).toBeGreaterThanOrEqual(0);
          }
        }
      }),
    );
    expect(explainedRows).toBeGreaterThan(0);
  });

  it('finds the same event ids under another key when enrichment differs', () => {
    let explainedRows = 0;
    fc.assert(
      fc.property(arbitraryLog, (log) => {
        const settings: WindowSettings = { sizeMs: 10_000, slideMs: 5_000, delayMs: 15_000 };
        // v2 read another stages topic: Kim Minjun became Choi Yuna; its offsets differ, its ids do not.
        const renamed = log.map((event) => ({
          ...event,
          offset: event.offset + 100n,
          keys: { user: event.keys['user'] === 'Kim Minjun' ? 'Choi Yuna' : (event.keys['user'] as string) },
        }));
        const [t1, t2] = [tables(log, settings), tables(renamed, settings)];
        const [r1, r2] = [replay('v1', log, settings), replay('v2', renamed, settings)];
        for (const row of differingRows(t1, t2)) {
          if (!r1.closed(row.windowStart) || !r2.closed(row.windowStart)) continue;
          const explained = explainRow(r1, r2, row.dim, row.key, row.windowStart, row);
          expect(explained.exact, explained.problem).toBe(true);
          const added = explained.events.filter((event) => event.countedBy === 'v2').length;
          expect(added - (explained.events.length - added)).toBe(row.to - row.from);
          expect(explained.byLateness).toBe(false);
          for (const event of explained.events) expect(event.why.kind).toBe('other-key');
          explainedRows += 1;
        }
      }),
    );
    expect(explainedRows).toBeGreaterThan(0);
  });

  it('explains the windows after a forgotten range as a replay of the whole log does, read in two parts', () => {
    let explainedRows = 0;
    fc.assert(
      fc.property(
        arbitraryLog,
        fc.nat(),
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 20_000 }),
        (log, cut, gap, extra) => {
          const v1: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 5_000 };
          const v2: WindowSettings = { ...v1, delayMs: 5_000 + extra };
          const [r1, r2] = [replay('v1', log, v1), replay('v2', log, v2)];
          const rows = differingRows(tables(log, v1), tables(log, v2)).filter(
            (row) => r1.closed(row.windowStart) && r2.closed(row.windowStart),
          );
          if (rows.length === 0) return;
          // The live diff forgets the windows it compared: here those just before a differing row.
          const through = Math.min(...rows.map((row) => row.windowStart)) - (1 + gap) * 10_000;
          let forgotten = Number.NEGATIVE_INFINITY;
          const wanted = (start: number) => start > forgotten;
          const [c1, c2] = [
            new VersionReplay('v1', v1, ['user'], wanted),
            new VersionReplay('v2', v2, ['user'], wanted),
          ];
          const split = cut % (log.length + 1);
          for (const event of log.slice(0, split)) for (const replayed of [c1, c2]) replayed.step(event);
          forgotten = through;
          for (const replayed of [c1, c2]) replayed.forget(through);
          for (const event of log.slice(split)) for (const replayed of [c1, c2]) replayed.step(event);
          for (const start of [through, through - 10_000])
            expect(c1.sightings(start).size + c2.sightings(start).size).toBe(0);
          for (const row of rows) {
            const whole = explainRow(r1, r2, row.dim, row.key, row.windowStart, row);
            expect(explainRow(c1, c2, row.dim, row.key, row.windowStart, row)).toEqual(whole);
            expect(whole.exact, whole.problem).toBe(true);
            explainedRows += 1;
          }
        },
      ),
    );
    expect(explainedRows).toBeGreaterThan(0);
  });

  it('says a row is not exact when a table disagrees with the log', () => {
    const settings: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 0 };
    const log: LoggedEvent[] = [
      { partition: 0, offset: 0n, id: '1', time: 1_000, keys: { user: 'Kim Minjun' } },
      { partition: 0, offset: 1n, id: '2', time: 25_000, keys: { user: 'Kim Minjun' } },
    ];
    const [r1, r2] = [replay('v1', log, settings), replay('v2', log, settings)];
    const explained = explainRow(r1, r2, 'user', 'Kim Minjun', 0, { from: 1, to: 2 });
    expect(explained.exact).toBe(false);
    expect(explained.problem).toContain("v2's table has 2, its log replayed gives 1");
  });
});
