/**
 * The event-time windowing engine (SPEC §1.3), pure: no clock, no I/O. Windows of `sizeMs`
 * sliding by `slideMs` are aligned to the Unix epoch like Spark's `window()`. Each source partition
 * has its own state and watermark (the largest event time seen *earlier in that partition* minus
 * `delayMs`), and lateness is decided per partition in log order — so the rows emitted are a pure
 * function of each partition's log and the settings, whatever the number of instances, the
 * assignment of partitions, restarts or rebalances.
 */

export interface WindowSettings {
  readonly sizeMs: number;
  readonly slideMs: number;
  readonly delayMs: number;
}

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
  /** Late events so far (an event is late when at least one of its windows had closed). */
  readonly lateEvents: number;
  /** Open windows: [start, [[dim, [[key, count], …]], …]], ascending by start. */
  readonly open: readonly (readonly [number, readonly (readonly [string, readonly (readonly [string, number])[]])[]])[];
}

export interface StepResult {
  /** The windows of the event that had already closed (0: the event counted everywhere). */
  readonly lateWindows: number;
  /** Rows of the windows this event's watermark advance closed, ascending by window start. */
  readonly emitted: readonly WindowRow[];
}

export function validateSettings(settings: WindowSettings): string | undefined {
  const { sizeMs, slideMs, delayMs } = settings;
  if (!(Number.isSafeInteger(sizeMs) && sizeMs > 0))
    return 'the window size must be a positive whole number of milliseconds';
  if (!(Number.isSafeInteger(slideMs) && slideMs > 0 && slideMs <= sizeMs))
    return 'the slide must be positive and at most the window size';
  if (!(Number.isSafeInteger(delayMs) && delayMs >= 0)) return 'the watermark delay must be zero or more';
  return undefined;
}

/** Starts of the windows [start, start + size) that contain `time`, ascending (epoch-aligned). */
export function windowsOf(time: number, settings: WindowSettings): number[] {
  const { sizeMs, slideMs } = settings;
  const last = Math.floor(time / slideMs) * slideMs;
  const starts: number[] = [];
  for (let start = last; start > time - sizeMs; start -= slideMs) starts.unshift(start);
  return starts;
}

/** One source partition's windows and watermark; `step` is the whole of its logic. */
export class PartitionWindows {
  private maxEventTime: number | null;
  private lateEvents: number;
  /** start → dim → key → count */
  private readonly open = new Map<number, Map<string, Map<string, number>>>();

  constructor(
    private readonly settings: WindowSettings,
    snapshot?: PartitionSnapshot,
  ) {
    this.maxEventTime = snapshot?.maxEventTime ?? null;
    this.lateEvents = snapshot?.lateEvents ?? 0;
    for (const [start, dims] of snapshot?.open ?? [])
      this.open.set(start, new Map(dims.map(([dim, keys]) => [dim, new Map(keys)])));
  }

  /** The partition's watermark: -∞ before its first event. */
  watermark(): number {
    return this.maxEventTime === null ? Number.NEGATIVE_INFINITY : this.maxEventTime - this.settings.delayMs;
  }

  get late(): number {
    return this.lateEvents;
  }

  hasOpenWindows(): boolean {
    return this.open.size > 0;
  }

  /** Processes the partition's next event, in log order. */
  step(event: KeyedEvent): StepResult {
    const watermark = this.watermark();
    let lateWindows = 0;
    for (const start of windowsOf(event.time, this.settings)) {
      if (watermark >= start + this.settings.sizeMs) {
        lateWindows += 1;
        continue;
      }
      let dims = this.open.get(start);
      if (dims === undefined) {
        dims = new Map();
        this.open.set(start, dims);
      }
      for (const [dim, key] of Object.entries(event.keys)) {
        let keys = dims.get(dim);
        if (keys === undefined) {
          keys = new Map();
          dims.set(dim, keys);
        }
        keys.set(key, (keys.get(key) ?? 0) + 1);
      }
    }
    if (lateWindows > 0) this.lateEvents += 1;
    if (this.maxEventTime !== null && event.time <= this.maxEventTime) return { lateWindows, emitted: [] };
    this.maxEventTime = event.time;
    return { lateWindows, emitted: this.closeUpTo(this.watermark()) };
  }

  /** Emits and forgets every open window whose end the watermark has reached. */
  private closeUpTo(watermark: number): WindowRow[] {
    const closing = [...this.open.keys()]
      .filter((start) => start + this.settings.sizeMs <= watermark)
      .sort((a, b) => a - b);
    const rows: WindowRow[] = [];
    for (const start of closing) {
      for (const [dim, keys] of this.open.get(start) ?? []) {
        for (const [key, count] of keys)
          rows.push({ windowStart: start, windowEnd: start + this.settings.sizeMs, dim, key, count });
      }
      this.open.delete(start);
    }
    return rows;
  }

  /**
   * Closes every open window regardless of the watermark (`--idle-close`: the partition has been
   * quiet for a while in processing time). The rows are not a function of the log alone: callers mark them.
   */
  closeAll(): WindowRow[] {
    return this.closeUpTo(Number.POSITIVE_INFINITY);
  }

  snapshot(): PartitionSnapshot {
    const open = [...this.open.entries()]
      .sort(([a], [b]) => a - b)
      .map(
        ([start, dims]) =>
          [start, [...dims.entries()].map(([dim, keys]) => [dim, [...keys.entries()]] as const)] as const,
      );
    return { maxEventTime: this.maxEventTime, lateEvents: this.lateEvents, open };
  }
}
