import { PartitionWindows } from '../aggregates/window-engine.js';
import { windowsOf, type WindowSettings } from '../model/window-settings.js';

/**
 * Exact explanations of a differing row (issue 25), pure: each version's log is replayed through
 * the window engine under that version's settings, remembering, for the windows asked about, which
 * events each version counted and under which key. The events counted by one version and not by
 * the other — joined by event id, so versions reading different stages topics compare too — are
 * the explanation: their net number is the row's delta, because the engine that decides here is
 * the engine that wrote the rows, and `VersionReplay` checks its own attribution against it.
 */

/** One record of a version's stages log, decoded: what the engine sees plus where it sits and its id. */
export interface LoggedEvent {
  readonly partition: number;
  readonly offset: bigint;
  /** The event's id (the same event keeps it through a full-chain replay into another stages topic). */
  readonly id: string;
  readonly time: number;
  readonly keys: Readonly<Record<string, string>>;
}

/** Where a log position's watermark came from: the event that set the partition's largest event time. */
export interface WatermarkPosition {
  readonly partition: number;
  readonly offset: string;
  /** The watermark (ms): that event's time minus the version's delay. */
  readonly watermark: number;
}

/** What one version did with one event in one window. */
export interface Sighting {
  readonly partition: number;
  readonly offset: string;
  readonly id: string;
  readonly time: number;
  readonly keys: Readonly<Record<string, string>>;
  /** Counted in the window (the partition's watermark had not passed its end when the event came). */
  readonly counted: boolean;
  /** The watermark when the event came (undefined: the partition's first event). */
  readonly watermark?: WatermarkPosition;
}

interface PartitionReplay {
  readonly windows: PartitionWindows;
  max?: { time: number; offset: bigint };
}

/**
 * A version's log replayed through the engine (`PartitionWindows.advance`, the aggregator's own
 * step), partition by partition in log order. For the windows `wanted` says yes to it keeps every
 * event of the window and whether it counted; it also keeps the rows the engine itself emitted for
 * those windows, so the attribution is checked against the engine, not against a second copy of its rule.
 */
export class VersionReplay {
  private readonly partitions = new Map<number, PartitionReplay>();
  /** windowStart → id → sighting */
  private readonly seen = new Map<number, Map<string, Sighting>>();
  /** windowStart → `${dim}|${key}` → count, from the rows the engine emitted. */
  private readonly emitted = new Map<number, Map<string, number>>();
  /** Late events (counted in none of their windows): id → event time. */
  private readonly late = new Map<string, number>();
  private records = 0;

  constructor(
    readonly version: string,
    readonly settings: WindowSettings,
    private readonly dims: readonly string[],
    private readonly wanted: (windowStart: number) => boolean,
  ) {}

  /** The partition's next event, in log order. */
  step(event: LoggedEvent): void {
    this.records += 1;
    let partition = this.partitions.get(event.partition);
    if (partition === undefined) {
      partition = { windows: new PartitionWindows(this.settings) };
      this.partitions.set(event.partition, partition);
    }
    const before = partition.windows.watermark();
    const watermark =
      partition.max === undefined
        ? undefined
        : { partition: event.partition, offset: String(partition.max.offset), watermark: before };
    for (const start of windowsOf(event.time, this.settings)) {
      if (!this.wanted(start)) continue;
      let window = this.seen.get(start);
      if (window === undefined) {
        window = new Map();
        this.seen.set(start, window);
      }
      window.set(event.id, {
        partition: event.partition,
        offset: String(event.offset),
        id: event.id,
        time: event.time,
        keys: event.keys,
        // The engine's rule (window-engine.ts `advance`): a window is closed once the watermark reaches its end.
        counted: !(before >= start + this.settings.sizeMs),
        ...(watermark === undefined ? {} : { watermark }),
      });
    }
    const keys: Record<string, string> = {};
    for (const dim of this.dims) if (event.keys[dim] !== undefined) keys[dim] = event.keys[dim];
    if (partition.windows.advance({ time: event.time, keys }).late) this.late.set(event.id, event.time);
    if (partition.max === undefined || event.time > partition.max.time)
      partition.max = { time: event.time, offset: event.offset };
    for (const row of partition.windows.drain()) {
      if (!this.wanted(row.windowStart)) continue;
      let window = this.emitted.get(row.windowStart);
      if (window === undefined) {
        window = new Map();
        this.emitted.set(row.windowStart, window);
      }
      const id = `${row.dim}|${row.key}`;
      window.set(id, (window.get(id) ?? 0) + row.count);
    }
  }

  /** The events this version counted in none of their windows (SPEC §1.3's late events): id → time. */
  lateEvents(): ReadonlyMap<string, number> {
    return this.late;
  }

  get replayed(): number {
    return this.records;
  }

  /** Every event of the window this version read, by id. */
  sightings(windowStart: number): ReadonlyMap<string, Sighting> {
    return this.seen.get(windowStart) ?? new Map();
  }

  /** The events counted in (dim, key, window). */
  counted(dim: string, key: string, windowStart: number): Sighting[] {
    return [...this.sightings(windowStart).values()].filter(
      (sighting) => sighting.counted && sighting.keys[dim] === key,
    );
  }

  /** The row the engine emitted for (dim, key, window), summed over partitions (0: none, or not closed). */
  engineCount(dim: string, key: string, windowStart: number): number {
    return this.emitted.get(windowStart)?.get(`${dim}|${key}`) ?? 0;
  }

  /**
   * Drops what the replay keeps of the windows starting at or before `through` (explained, never
   * asked about again: the live diff compares each window once), and the late events of no later
   * window. A replay that goes on reading the log must then be `wanted` none of those windows.
   */
  forget(through: number): void {
    for (const start of this.seen.keys()) if (start <= through) this.seen.delete(start);
    for (const start of this.emitted.keys()) if (start <= through) this.emitted.delete(start);
    for (const [id, time] of this.late)
      if (windowsOf(time, this.settings).every((start) => start <= through)) this.late.delete(id);
  }

  /** Whether every partition the replay read has closed the window. */
  closed(windowStart: number): boolean {
    return [...this.partitions.values()].every(
      (partition) => partition.windows.watermark() >= windowStart + this.settings.sizeMs,
    );
  }
}

/** Why the other version did not count an event this one counted under the row's key. */
export type Reason =
  /** The other version saw it with the same key after its watermark had passed the window's end. */
  | {
      readonly kind: 'late';
      readonly version: string;
      readonly partition: number;
      readonly offset: string;
      readonly watermark: WatermarkPosition;
      /** How far the watermark was past the window's end (≥ 0). */
      readonly pastWindowEndMs: number;
      /** How far the event's time was behind the watermark. */
      readonly behindWatermarkMs: number;
    }
  /** The other version has the same event id in this window under another key (enrichment differs). */
  | {
      readonly kind: 'other-key';
      readonly version: string;
      readonly partition: number;
      readonly offset: string;
      readonly key: string;
      readonly counted: boolean;
    }
  /** The other version's log, as far as it has read, has no event with this id in this window. */
  | { readonly kind: 'absent'; readonly version: string };

export interface ExplainedEvent {
  readonly id: string;
  readonly time: number;
  /** The version that counted it in the row. */
  readonly countedBy: string;
  readonly partition: number;
  readonly offset: string;
  readonly why: Reason;
}

export interface RowExplanation {
  readonly dim: string;
  readonly key: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly from: string;
  readonly to: string;
  /** The row's counts as the replays counted them. */
  readonly countFrom: number;
  readonly countTo: number;
  /** Events counted by `to` only come first (they add), then those counted by `from` only. */
  readonly events: readonly ExplainedEvent[];
  /** Every event is late in the version that did not count it (same key): a watermark difference only. */
  readonly byLateness: boolean;
  /**
   * The replays' counts equal the engine's rows and, when given, the tables' rows — so the events
   * explain the delta exactly (countTo − countFrom = added − removed). False says why not in `problem`.
   */
  readonly exact: boolean;
  readonly problem?: string;
}

function reasonFor(sighting: Sighting, other: VersionReplay, dim: string, windowStart: number): Reason {
  const windowEnd = windowStart + other.settings.sizeMs;
  const there = other.sightings(windowStart).get(sighting.id);
  if (there === undefined) return { kind: 'absent', version: other.version };
  const key = there.keys[dim] ?? '';
  if (key !== sighting.keys[dim])
    return {
      kind: 'other-key',
      version: other.version,
      partition: there.partition,
      offset: there.offset,
      key,
      counted: there.counted,
    };
  // Same key, not counted: the engine found the window closed, so a watermark existed.
  const watermark = there.watermark ?? { partition: there.partition, offset: there.offset, watermark: windowEnd };
  return {
    kind: 'late',
    version: other.version,
    partition: there.partition,
    offset: there.offset,
    watermark,
    pastWindowEndMs: watermark.watermark - windowEnd,
    behindWatermarkMs: watermark.watermark - there.time,
  };
}

/**
 * The events that make (dim, key, window) differ between `from` and `to`. `tables` (the rows the
 * versions committed) are checked against the replays when given.
 */
export function explainRow(
  from: VersionReplay,
  to: VersionReplay,
  dim: string,
  key: string,
  windowStart: number,
  tables?: { readonly from: number; readonly to: number },
): RowExplanation {
  const windowEnd = windowStart + to.settings.sizeMs;
  const countedFrom = from.counted(dim, key, windowStart);
  const countedTo = to.counted(dim, key, windowStart);
  const idsFrom = new Set(countedFrom.map((sighting) => sighting.id));
  const idsTo = new Set(countedTo.map((sighting) => sighting.id));
  const explained = (sighting: Sighting, by: VersionReplay, other: VersionReplay): ExplainedEvent => ({
    id: sighting.id,
    time: sighting.time,
    countedBy: by.version,
    partition: sighting.partition,
    offset: sighting.offset,
    why: reasonFor(sighting, other, dim, windowStart),
  });
  const byPosition = (a: ExplainedEvent, b: ExplainedEvent) =>
    a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset));
  const events = [
    ...countedTo
      .filter((s) => !idsFrom.has(s.id))
      .map((s) => explained(s, to, from))
      .sort(byPosition),
    ...countedFrom
      .filter((s) => !idsTo.has(s.id))
      .map((s) => explained(s, from, to))
      .sort(byPosition),
  ];
  const problems: string[] = [];
  for (const [replay, counted, table] of [
    [from, countedFrom.length, tables?.from],
    [to, countedTo.length, tables?.to],
  ] as const) {
    if (!replay.closed(windowStart))
      problems.push(`the window is not closed in ${replay.version}: its row may still change`);
    else if (replay.engineCount(dim, key, windowStart) !== counted)
      problems.push(
        `${replay.version}: the engine emitted ${replay.engineCount(dim, key, windowStart)}, the attribution counted ${counted}`,
      );
    if (table !== undefined && table !== counted)
      problems.push(`${replay.version}'s table has ${table}, its log replayed gives ${counted}`);
  }
  return {
    dim,
    key,
    windowStart,
    windowEnd,
    from: from.version,
    to: to.version,
    countFrom: countedFrom.length,
    countTo: countedTo.length,
    events,
    byLateness: events.every((event) => event.why.kind === 'late'),
    exact: problems.length === 0,
    ...(problems.length === 0 ? {} : { problem: problems.join('; ') }),
  };
}
