/**
 * `kappa lateness`, pure: from the stages log, read once, how late events are and what each
 * watermark delay D would cost — exactly what a version with these window settings and D would
 * count as late (SPEC §1.3), without running one version per D.
 *
 * Per partition, in log order, with M the largest event time seen *earlier* in the partition: the
 * window [s, s + size) misses the event under D when M − D ≥ s + size, i.e. when D ≤ M − (s + size).
 * So each (event, window) has a *threshold* M − (s + size): it is a late window for every delay up
 * to it. The event is late (counted in none of its windows) when its newest window misses it, so the
 * event's threshold is that of its newest window. Adding the thresholds to histograms answers "how
 * many for D" for every D at once, with memory bounded by the histograms' buckets (see histogram.ts),
 * not by the log.
 */
import { windowsOf, type WindowSettings } from '../model/window-settings.js';
import { isBoundary, nextRound } from '../shared/three-digits.js';
import { futureTimeProblem, windowRangeProblem } from '../shared/time-bounds.js';
import { Histogram, type HistogramState } from './histogram.js';

export type LatenessWindows = Pick<WindowSettings, 'sizeMs' | 'slideMs'>;

/** A lateness distribution in ms (three significant digits; `max` exact). */
export interface Distribution {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface PartitionLateness extends Distribution {
  readonly partition: number;
  readonly events: number;
  readonly bad: number;
  readonly future: number;
}

export interface DelayCost {
  readonly delayMs: number;
  /** Events a version with this delay counts in none of their windows. */
  readonly lateEvents: number;
  /** (event, window) pairs it misses. */
  readonly lateWindows: number;
  /** lateEvents / events (0 without events). */
  readonly lateFraction: number;
}

export interface LatenessReport {
  readonly windows: LatenessWindows;
  /** Events decoded with a parsable time (bad records excluded). */
  readonly events: number;
  /** Records that could not be decoded, whose time does not parse or whose windows leave the DATETIME range. */
  readonly bad: number;
  /**
   * Records whose time is further ahead of their record timestamp than KAPPA_MAX_FUTURE: bad
   * records to the stages (`future-time`), counted apart — as events they would make every later
   * event of their partition look late.
   */
  readonly future: number;
  readonly overall: Distribution;
  readonly partitions: readonly PartitionLateness[];
  readonly delays: readonly DelayCost[];
  /** The target share of late events, 0..1. */
  readonly target: number;
  /** The smallest whole-second delay (three significant digits above 999 s) meeting the target. */
  readonly recommendedMs: number;
  /** The smallest of `delays` meeting the target; null when none does. */
  readonly smallestCandidateMs: number | null;
}

/** An analyser as plain data: what a worker thread reads into and sends back. */
export interface AnalyserState {
  readonly windows: LatenessWindows;
  readonly partitions: readonly (readonly [
    number,
    { maxTime: number | null; bad: number; future?: number; lateness: HistogramState },
  ])[];
  readonly eventThresholds: HistogramState;
  readonly windowThresholds: HistogramState;
}

interface PartitionState {
  maxTime: number | null;
  bad: number;
  future: number;
  readonly lateness: Histogram;
}

/** The smallest whole second (a histogram boundary) above `value`. */
function wholeSecondAbove(value: number): number {
  const candidate = (Math.floor(value / 1_000) + 1) * 1_000;
  return isBoundary(candidate) ? candidate : nextRound(candidate);
}

export class LatenessAnalyser {
  private readonly partitions = new Map<number, PartitionState>();
  /** Per event: the largest delay under which it is late (only events late under some D ≥ 0). */
  private readonly eventThresholds = new Histogram();
  /** Per (event, window): the largest delay under which the window misses it. */
  private readonly windowThresholds = new Histogram();

  constructor(readonly windows: LatenessWindows) {}

  private partition(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      state = { maxTime: null, bad: 0, future: 0, lateness: new Histogram() };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** An independent copy: a reader can go on while the copy answers for the offsets it had reached. */
  clone(): LatenessAnalyser {
    const copy = new LatenessAnalyser(this.windows);
    for (const [partition, state] of this.partitions)
      copy.partitions.set(partition, { ...state, lateness: state.lateness.clone() });
    copy.eventThresholds.merge(this.eventThresholds);
    copy.windowThresholds.merge(this.windowThresholds);
    return copy;
  }

  toJSON(): AnalyserState {
    return {
      windows: { ...this.windows },
      partitions: [...this.partitions].map(
        ([partition, state]) =>
          [
            partition,
            { maxTime: state.maxTime, bad: state.bad, future: state.future, lateness: state.lateness.toJSON() },
          ] as const,
      ),
      eventThresholds: this.eventThresholds.toJSON(),
      windowThresholds: this.windowThresholds.toJSON(),
    };
  }

  static fromJSON(state: AnalyserState): LatenessAnalyser {
    const analyser = new LatenessAnalyser(state.windows);
    for (const [partition, entry] of state.partitions)
      analyser.partitions.set(partition, {
        maxTime: entry.maxTime,
        bad: entry.bad,
        future: entry.future ?? 0,
        lateness: Histogram.fromJSON(entry.lateness),
      });
    analyser.eventThresholds.merge(Histogram.fromJSON(state.eventThresholds));
    analyser.windowThresholds.merge(Histogram.fromJSON(state.windowThresholds));
    return analyser;
  }

  /**
   * The partition's next record, in log order: its time (undefined: undecodable, or a time that
   * does not parse) and what bounds it. Decided as the aggregator decides (batch-plan.ts): a time
   * more than `maxFutureMs` ahead of the record's timestamp is future-time, a window outside the
   * DATETIME range bad; only the rest are events.
   */
  record(
    partition: number,
    time: number | undefined,
    bound: { readonly timestampMs: number; readonly maxFutureMs: number },
  ): void {
    if (time === undefined) this.bad(partition);
    else if (futureTimeProblem(time, bound.timestampMs, bound.maxFutureMs) !== undefined) this.future(partition);
    else if (windowRangeProblem(time, this.windows) !== undefined) this.bad(partition);
    else this.step(partition, time);
  }

  /** The partition's next event (epoch ms), in log order. */
  step(partition: number, time: number): void {
    const state = this.partition(partition);
    const max = state.maxTime;
    if (max === null || time >= max) {
      // Not behind anything earlier: no window of it can have closed, under any delay.
      state.lateness.add(0);
      state.maxTime = time;
      return;
    }
    state.lateness.add(max - time);
    const { sizeMs } = this.windows;
    const starts = windowsOf(time, { ...this.windows, delayMs: 0 });
    // Oldest window first: thresholds only shrink from there.
    for (const start of starts) {
      const threshold = max - (start + sizeMs);
      if (threshold < 0) break;
      this.windowThresholds.add(threshold);
    }
    const newest = starts.at(-1);
    if (newest !== undefined && max - (newest + sizeMs) >= 0) this.eventThresholds.add(max - (newest + sizeMs));
  }

  /** A record of the partition that could not be decoded or whose time does not parse. */
  bad(partition: number): void {
    this.partition(partition).bad += 1;
  }

  /** A record of the partition whose time is too far ahead of its record timestamp (future-time). */
  future(partition: number): void {
    this.partition(partition).future += 1;
  }

  get events(): number {
    let events = 0;
    for (const state of this.partitions.values()) events += state.lateness.count;
    return events;
  }

  /** Late events under `delayMs` (a histogram boundary: see delayProblem). */
  lateEvents(delayMs: number): number {
    return this.eventThresholds.countAtLeast(delayMs);
  }

  lateWindows(delayMs: number): number {
    return this.windowThresholds.countAtLeast(delayMs);
  }

  /** The smallest whole-second delay whose late events are at most `allowed`. */
  smallestDelayAllowing(allowed: number): number {
    // Buckets from the top: a delay in (next lower bucket, this bucket] leaves exactly the events
    // of this bucket and those above it late.
    const buckets = [...this.eventThresholds.sorted()].reverse();
    let late = 0;
    for (const [lower, count] of buckets) {
      if (late + count > allowed) return wholeSecondAbove(lower);
      late += count;
    }
    return 0;
  }

  report(delays: readonly number[], target: number): LatenessReport {
    const events = this.events;
    const overall = new Histogram();
    const partitions = [...this.partitions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, state]): PartitionLateness => {
        overall.merge(state.lateness);
        return {
          partition,
          events: state.lateness.count,
          bad: state.bad,
          future: state.future,
          ...distribution(state.lateness),
        };
      });
    const costs = [...new Set(delays)]
      .sort((a, b) => a - b)
      .map((delayMs): DelayCost => {
        const lateEvents = this.lateEvents(delayMs);
        return {
          delayMs,
          lateEvents,
          lateWindows: this.lateWindows(delayMs),
          lateFraction: events === 0 ? 0 : lateEvents / events,
        };
      });
    const allowed = Math.floor(target * events + 1e-9);
    return {
      windows: { ...this.windows },
      events,
      bad: partitions.reduce((sum, entry) => sum + entry.bad, 0),
      future: partitions.reduce((sum, entry) => sum + entry.future, 0),
      overall: distribution(overall),
      partitions,
      delays: costs,
      target,
      recommendedMs: this.smallestDelayAllowing(allowed),
      smallestCandidateMs: costs.find((cost) => cost.lateEvents <= allowed)?.delayMs ?? null,
    };
  }
}

function distribution(histogram: Histogram): Distribution {
  return {
    p50: histogram.quantile(0.5),
    p90: histogram.quantile(0.9),
    p99: histogram.quantile(0.99),
    p999: histogram.quantile(0.999),
    max: histogram.max,
  };
}
