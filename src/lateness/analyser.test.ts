import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionWindows } from '../aggregates/window-engine.js';
import { windowsOf, type WindowSettings } from '../model/window-settings.js';
import { LatenessAnalyser, type LatenessWindows } from './analyser.js';
import { delayProblem } from '../shared/three-digits.js';
import { bucketOf, isBoundary } from '../shared/three-digits.js';

type Log = readonly (readonly number[])[];

/** SPEC §1.3 read literally, for one delay: per partition, each event against the largest time before it. */
function bruteForce(log: Log, windows: LatenessWindows, delayMs: number) {
  let lateEvents = 0;
  let lateWindows = 0;
  for (const times of log) {
    let max = Number.NEGATIVE_INFINITY;
    for (const time of times) {
      let counted = 0;
      let missed = 0;
      const first = Math.floor(time / windows.slideMs) * windows.slideMs;
      for (let start = first; start > time - windows.sizeMs; start -= windows.slideMs) {
        if (max - delayMs >= start + windows.sizeMs) missed += 1;
        else counted += 1;
      }
      lateWindows += missed;
      if (counted === 0) lateEvents += 1;
      max = Math.max(max, time);
    }
  }
  return { lateEvents, lateWindows };
}

/** What the aggregator's own engine decides for a version with this delay (late = no window counted it). */
function engine(log: Log, windows: LatenessWindows, delayMs: number) {
  const settings: WindowSettings = { ...windows, delayMs };
  let lateEvents = 0;
  let lateWindows = 0;
  for (const times of log) {
    const partition = new PartitionWindows(settings);
    for (const time of times) {
      const result = partition.step({ time, keys: { user: 'k' } });
      lateWindows += result.lateWindows;
      if (result.lateWindows === windowsOf(time, settings).length) lateEvents += 1;
    }
  }
  return { lateEvents, lateWindows };
}

function analyse(log: Log, windows: LatenessWindows): LatenessAnalyser {
  const analyser = new LatenessAnalyser(windows);
  // Partitions interleaved round-robin: only each partition's own order matters.
  const longest = Math.max(0, ...log.map((times) => times.length));
  for (let index = 0; index < longest; index += 1)
    log.forEach((times, partition) => {
      const time = times[index];
      if (time !== undefined) analyser.step(partition, time);
    });
  return analyser;
}

const BASE = Date.UTC(2026, 10, 22, 11, 0, 0);

/** Partitions of event times: mostly moving forward, some far behind (late), some ties. */
const logs = fc.array(
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 4_000 }) },
      { weight: 2, arbitrary: fc.integer({ min: -90_000, max: 0 }) },
      { weight: 1, arbitrary: fc.constant(0) },
      // Whole seconds, as the log's times are: thresholds land exactly on window ends.
      { weight: 4, arbitrary: fc.integer({ min: -60, max: 3 }).map((seconds) => seconds * 1_000) },
    ),
    { maxLength: 60 },
  ),
  { minLength: 1, maxLength: 4 },
);

function toTimes(steps: readonly (readonly number[])[]): Log {
  return steps.map((partition) => {
    let clock = BASE;
    return partition.map((step) => {
      if (step >= 0) {
        clock += step;
        return clock;
      }
      return clock + step;
    });
  });
}

/** Window settings: tumbling or hopping, sizes in ms or whole seconds. */
const windowSettings = fc.oneof(
  fc.integer({ min: 1, max: 30 }).map((seconds) => ({ sizeMs: seconds * 1_000, slideMs: seconds * 1_000 })),
  fc
    .tuple(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 1, max: 10 }))
    .map(([sizeMs, parts]) => ({ sizeMs, slideMs: Math.max(1, Math.floor(sizeMs / parts)) })),
  // Slides that do not divide the size (at most 20 windows per event, to keep the brute force quick).
  fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 0, max: 1_000 })).map(([sizeMs, share]) => ({
    sizeMs,
    slideMs: Math.max(1, Math.ceil(sizeMs / 20), Math.floor((sizeMs * share) / 1_000)),
  })),
);

const delays = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 120_000 }).map(bucketOf), fc.constantFrom(0, 1_000, 15_000, 30_000, 60_000)),
  { minLength: 1, maxLength: 6 },
);

describe('LatenessAnalyser', () => {
  it('counts, for every delay, exactly the late events and late windows of SPEC §1.3 (brute force and the engine)', () => {
    fc.assert(
      fc.property(logs, windowSettings, delays, (steps, windows, candidates) => {
        const log = toTimes(steps);
        const report = analyse(log, windows).report(candidates, 0.01);
        for (const cost of report.delays) {
          const expected = bruteForce(log, windows, cost.delayMs);
          expect({ lateEvents: cost.lateEvents, lateWindows: cost.lateWindows }).toEqual(expected);
          expect(engine(log, windows, cost.delayMs)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reports the lateness distribution per partition and overall (exact to three significant digits)', () => {
    fc.assert(
      fc.property(logs, windowSettings, (steps, windows) => {
        const log = toTimes(steps);
        const report = analyse(log, windows).report([15_000], 0.001);
        const latenessOf = (times: readonly number[]) => {
          let max = Number.NEGATIVE_INFINITY;
          return times.map((time) => {
            const lateness = time < max ? max - time : 0;
            max = Math.max(max, time);
            return lateness;
          });
        };
        const check = (values: number[], got: { p50: number; p99: number; p999: number; max: number }) => {
          const sorted = [...values].sort((a, b) => a - b);
          const at = (q: number) => bucketOf(sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? 0);
          expect(got.p50).toBe(at(0.5));
          expect(got.p99).toBe(at(0.99));
          expect(got.p999).toBe(at(0.999));
          expect(got.max).toBe(sorted.at(-1) ?? 0);
        };
        const nonEmpty = log.map((times, partition) => ({ times, partition })).filter((p) => p.times.length > 0);
        expect(report.partitions.map((entry) => entry.partition)).toEqual(nonEmpty.map((p) => p.partition));
        for (const { times, partition } of nonEmpty) {
          const entry = report.partitions.find((candidate) => candidate.partition === partition);
          expect(entry?.events).toBe(times.length);
          if (entry !== undefined) check(latenessOf(times), entry);
        }
        check(log.flatMap(latenessOf), report.overall);
        expect(report.events).toBe(log.flat().length);
      }),
      { numRuns: 200 },
    );
  });

  it('recommends the smallest whole-second delay whose late events meet the target', () => {
    fc.assert(
      fc.property(logs, windowSettings, fc.constantFrom(0, 0.001, 0.01, 0.05, 0.2, 1), (steps, windows, target) => {
        const log = toTimes(steps);
        const report = analyse(log, windows).report([15_000, 60_000], target);
        const allowed = Math.floor(target * report.events + 1e-9);
        const recommended = report.recommendedMs;
        expect(recommended % 1_000).toBe(0);
        expect(bruteForce(log, windows, recommended).lateEvents).toBeLessThanOrEqual(allowed);
        if (recommended > 0) expect(bruteForce(log, windows, recommended - 1_000).lateEvents).toBeGreaterThan(allowed);
        const meeting = report.delays.find((cost) => cost.lateEvents <= allowed);
        expect(report.smallestCandidateMs).toBe(meeting?.delayMs ?? null);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same report whatever the interleaving of partitions', () => {
    fc.assert(
      fc.property(logs, windowSettings, fc.integer(), (steps, windows, seed) => {
        const log = toTimes(steps);
        const shuffled = new LatenessAnalyser(windows);
        const cursors = log.map(() => 0);
        let state = seed;
        for (let left = log.flat().length; left > 0; left -= 1) {
          state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
          const open = cursors.map((cursor, partition) => (cursor < (log[partition]?.length ?? 0) ? partition : -1));
          const candidates = open.filter((partition) => partition >= 0);
          const partition = candidates[Math.abs(state) % candidates.length] ?? 0;
          shuffled.step(partition, log[partition]?.[cursors[partition] ?? 0] ?? 0);
          cursors[partition] = (cursors[partition] ?? 0) + 1;
        }
        expect(shuffled.report([0, 15_000], 0.01)).toEqual(analyse(log, windows).report([0, 15_000], 0.01));
      }),
      { numRuns: 100 },
    );
  });

  it('counts bad records per partition, apart from the events', () => {
    const analyser = new LatenessAnalyser({ sizeMs: 10_000, slideMs: 10_000 });
    analyser.step(0, BASE);
    analyser.bad(0);
    analyser.bad(2);
    const report = analyser.report([15_000], 0.001);
    expect([report.events, report.bad]).toEqual([1, 2]);
    expect(report.partitions.map((entry) => [entry.partition, entry.events, entry.bad])).toEqual([
      [0, 1, 1],
      [2, 0, 1],
    ]);
  });

  it('counts a time too far ahead of its record timestamp as future-time, apart from events and bad records', () => {
    const analyser = new LatenessAnalyser({ sizeMs: 10_000, slideMs: 10_000 });
    const stamped = { timestampMs: BASE + 60_000, maxFutureMs: 3_600_000 };
    analyser.record(0, BASE, stamped);
    // One hour ahead of the timestamp is still an event; beyond it, future-time (as the aggregator decides).
    analyser.record(2, BASE + 60_000 + 3_600_000, stamped);
    analyser.record(0, Date.UTC(9999, 11, 31, 23, 59, 59), stamped);
    analyser.record(1, undefined, stamped);
    // Not ahead of its own timestamp, but its window ends after 9999-12-31: a bad record to the aggregator.
    const top = Date.UTC(9999, 11, 31, 23, 59, 59);
    analyser.record(1, top, { timestampMs: top, maxFutureMs: 3_600_000 });
    analyser.record(1, BASE, { timestampMs: -1, maxFutureMs: 3_600_000 });
    const report = analyser.report([15_000], 0.001);
    expect([report.events, report.bad, report.future]).toEqual([2, 2, 2]);
    expect(report.partitions.map((entry) => [entry.partition, entry.events, entry.bad, entry.future])).toEqual([
      [0, 1, 0, 1],
      [1, 0, 2, 1],
      [2, 1, 0, 0],
    ]);
    // The far-future time moved nothing: the event after it is not late.
    analyser.record(0, BASE + 1_000, stamped);
    expect(analyser.report([0], 0.001).delays[0]?.lateEvents).toBe(0);
    expect(LatenessAnalyser.fromJSON(analyser.toJSON()).report([0], 0.001)).toEqual(analyser.report([0], 0.001));
  });

  it('a log with 5 % of events 30 s late needs 30 s for 0.1 % (window 10 s)', () => {
    const analyser = new LatenessAnalyser({ sizeMs: 10_000, slideMs: 10_000 });
    for (let id = 0; id < 20_000; id += 1) {
      const time = BASE + Math.floor(id / 20) * 1_000 - (id % 20 === 7 ? 30_000 : 0);
      analyser.step(id % 3, time);
    }
    const report = analyser.report([15_000, 30_000, 60_000], 0.001);
    expect(report.recommendedMs).toBe(30_000);
    expect(report.smallestCandidateMs).toBe(30_000);
    expect(report.delays[0]?.lateEvents).toBeGreaterThan(0);
    expect(report.overall.max).toBe(30_000);
  });

  it('refuses delays it cannot answer exactly, naming a close one', () => {
    expect(delayProblem(15_000)).toBeUndefined();
    expect(delayProblem(5_400_000)).toBeUndefined();
    expect(delayProblem(12_345)).toBe('12345 ms has more than three significant digits; use e.g. 12400 ms');
    expect(isBoundary(999_000)).toBe(true);
  });
});

describe('LatenessAnalyser.clone', () => {
  it('answers like the original at the time of copying, whatever the original reads next', () => {
    const analyser = new LatenessAnalyser({ sizeMs: 10_000, slideMs: 5_000 });
    for (const time of [BASE + 50_000, BASE, BASE + 60_000, BASE + 20_000]) analyser.step(0, time);
    const before = analyser.report([0, 15_000], 0.01);
    const copy = analyser.clone();
    analyser.step(0, BASE + 1_000);
    analyser.bad(1);
    expect(copy.report([0, 15_000], 0.01)).toEqual(before);
    expect(analyser.report([0, 15_000], 0.01)).not.toEqual(before);
  });
});
