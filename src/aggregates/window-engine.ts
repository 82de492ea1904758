/**
 * The event-time windowing engine (SPEC §1.3), pure: no clock, no I/O. Windows of `sizeMs`
 * sliding by `slideMs` are aligned to the Unix epoch like Spark's `window()`. Each source partition
 * has its own state and watermark (the largest event time seen *earlier in that partition* minus
 * `delayMs`), and lateness is decided per partition in log order — so the rows emitted are a pure
 * function of each partition's log and the settings, whatever the number of instances, the
 * assignment of partitions, restarts or rebalances.
 */

import type { WindowSettings } from '../model/window-settings.js';

/** An event reduced to what the engine needs: its time and its key per dimension (user, dept, age). */
export interface KeyedEvent {
  readonly time: number;
  readonly keys: Readonly<Record<string, string>>;
}

/** One partition's contribution to one (window, dimension, key): added to the table's total. */
export interface WindowRow {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly dim: string;
  readonly key: string;
  readonly count: number;
}

/** A partition's state as JSON: what is committed with the rows, so a restart resumes exactly. */
export interface PartitionSnapshot {
  readonly maxEventTime: number | null;
  /** Late events so far: counted in none of their windows (all had closed). */
  readonly lateEvents: number;
  /** (event, window) misses so far: with hopping windows an event may miss some windows only. */
  readonly lateWindows?: number;
  /** Open windows: [start, [[dim, [[key, count], …]], …]], ascending by start. */
  readonly open: readonly (readonly [number, readonly (readonly [string, readonly (readonly [string, number])[]])[]])[];
}

export interface AdvanceResult {
  /** The windows of the event that had already closed (0: the event counted everywhere). */
  readonly lateWindows: number;
  /** Counted in none of its windows (SPEC §1.3's definition of a late event). */
  readonly late: boolean;
}

export interface StepResult extends AdvanceResult {
  /** Rows of the windows this event's watermark advance closed, ascending by window start. */
  readonly emitted: readonly WindowRow[];
}

/** What most events are: counted in every window they belong to (one object, not one per event). */
const ON_TIME: AdvanceResult = Object.freeze({ lateWindows: 0, late: false });

/** One source partition's windows and watermark; `advance` + `drain` (or `step`) is the whole of its logic. */
export class PartitionWindows {
  private maxEventTime: number | null;
  private lateEvents: number;
  private lateWindowCount: number;
  /** start → dim → key → count */
  private readonly open = new Map<number, Map<string, Map<string, number>>>();
  /** The smallest open start, or undefined when unknown (recomputed lazily): most events close nothing. */
  private earliest: number | undefined = Number.POSITIVE_INFINITY;

  constructor(
    private readonly settings: WindowSettings,
    snapshot?: PartitionSnapshot,
  ) {
    this.maxEventTime = snapshot?.maxEventTime ?? null;
    this.lateEvents = snapshot?.lateEvents ?? 0;
    this.lateWindowCount = snapshot?.lateWindows ?? 0;
    for (const [start, dims] of snapshot?.open ?? [])
      this.open.set(start, new Map(dims.map(([dim, keys]) => [dim, new Map(keys)])));
    this.earliest = undefined;
  }

  /** The partition's watermark: -∞ before its first event. */
  watermark(): number {
    return this.maxEventTime === null ? Number.NEGATIVE_INFINITY : this.maxEventTime - this.settings.delayMs;
  }

  get late(): number {
    return this.lateEvents;
  }

  get lateWindows(): number {
    return this.lateWindowCount;
  }

  hasOpenWindows(): boolean {
    return this.open.size > 0;
  }

  /**
   * Counts the partition's next event (in log order) and advances the watermark, without closing
   * anything: `drain` then emits the windows the watermark closed, in chunks as small as wanted.
   */
  advance(event: KeyedEvent): AdvanceResult {
    const watermark = this.watermark();
    const { sizeMs, slideMs } = this.settings;
    let lateWindows = 0;
    let windows = 0;
    for (let start = Math.floor(event.time / slideMs) * slideMs; start > event.time - sizeMs; start -= slideMs) {
      windows += 1;
      if (watermark >= start + sizeMs) {
        lateWindows += 1;
        continue;
      }
      let dims = this.open.get(start);
      if (dims === undefined) {
        dims = new Map();
        this.open.set(start, dims);
        if (this.earliest !== undefined && start < this.earliest) this.earliest = start;
      }
      for (const dim in event.keys) {
        const key = event.keys[dim] as string;
        let keys = dims.get(dim);
        if (keys === undefined) {
          keys = new Map();
          dims.set(dim, keys);
        }
        keys.set(key, (keys.get(key) ?? 0) + 1);
      }
    }
    const late = lateWindows === windows;
    this.lateWindowCount += lateWindows;
    if (late) this.lateEvents += 1;
    if (this.maxEventTime === null || event.time > this.maxEventTime) this.maxEventTime = event.time;
    return lateWindows === 0 ? ON_TIME : { lateWindows, late };
  }

  /** Whether the watermark has closed a window that still has rows to emit. */
  hasClosedWindows(): boolean {
    return this.earliestStart() + this.settings.sizeMs <= this.watermark();
  }

  /**
   * Emits (and forgets) up to `maxRows` rows of the windows the watermark closed, oldest window
   * first. A window may be emitted over several calls: each row is emitted once, and the rest stay
   * in the snapshot until the next call.
   */
  drain(maxRows = Number.POSITIVE_INFINITY, watermark = this.watermark()): WindowRow[] {
    const rows: WindowRow[] = [];
    if (this.earliestStart() + this.settings.sizeMs > watermark) return rows;
    const closing = [...this.open.keys()]
      .filter((start) => start + this.settings.sizeMs <= watermark)
      .sort((a, b) => a - b);
    for (const start of closing) {
      const dims = this.open.get(start);
      if (dims === undefined) continue;
      for (const [dim, keys] of dims) {
        for (const [key, count] of keys) {
          if (rows.length >= maxRows) return rows;
          rows.push({ windowStart: start, windowEnd: start + this.settings.sizeMs, dim, key, count });
          keys.delete(key);
        }
        dims.delete(dim);
      }
      this.open.delete(start);
      this.earliest = undefined;
    }
    return rows;
  }

  /** `advance` and `drain` in one: the event's effect with every row it closes. */
  step(event: KeyedEvent): StepResult {
    const result = this.advance(event);
    return { ...result, emitted: this.drain() };
  }

  /**
   * Closes every open window regardless of the watermark (`--idle-close`: the partition has been
   * quiet for a while in processing time). The rows are not a function of the log alone: callers mark them.
   */
  closeAll(maxRows = Number.POSITIVE_INFINITY): WindowRow[] {
    return this.drain(maxRows, Number.POSITIVE_INFINITY);
  }

  snapshot(): PartitionSnapshot {
    const open = [...this.open.entries()]
      .sort(([a], [b]) => a - b)
      .map(
        ([start, dims]) =>
          [start, [...dims.entries()].map(([dim, keys]) => [dim, [...keys.entries()]] as const)] as const,
      );
    return {
      maxEventTime: this.maxEventTime,
      lateEvents: this.lateEvents,
      lateWindows: this.lateWindowCount,
      open,
    };
  }

  private earliestStart(): number {
    if (this.earliest === undefined) {
      let min = Number.POSITIVE_INFINITY;
      for (const start of this.open.keys()) if (start < min) min = start;
      this.earliest = min;
    }
    return this.earliest;
  }
}
