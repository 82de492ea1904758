import { isDimension, type Dimension } from '../model/dimensions.js';
import { windowsOf } from '../model/window-settings.js';
import { KappaError } from '../shared/errors.js';
import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import type { Catalog, VersionRecord } from './catalog.js';
import { closedHorizons, type PartitionOffsets } from './catch-up.js';
import { explainRow, VersionReplay, type RowExplanation } from './explain.js';
import { replayLogs, type LogSource } from './explain-log.js';
import { diffVersions, type VersionDiff } from './operations.js';

export interface ExplainContext {
  readonly catalog: Catalog;
  readonly source: LogSource;
  /** For versions that did not record their time zone (created by an older kappa). */
  readonly defaultTimeZone: string;
}

/** A row of a version's table: (dimension, key, window start). */
export interface RowRef {
  readonly dim: Dimension;
  readonly key: string;
  readonly windowStart: number;
}

interface Replayed {
  readonly from: VersionReplay;
  readonly to: VersionReplay;
  readonly records: readonly [VersionRecord, VersionRecord];
}

/** Both versions' logs replayed once, keeping the events of the windows `wanted` says yes to. */
async function replayBoth(
  context: ExplainContext,
  from: string,
  to: string,
  wanted: (windowStart: number) => boolean,
): Promise<Replayed> {
  const { catalog } = context;
  const records = [await catalog.version(from), await catalog.version(to)] as const;
  const replays = records.map((record) => new VersionReplay(record.version, record.settings, record.dims, wanted));
  const targets = await Promise.all(
    records.map(async (record, index) => ({
      replay: replays[index] as VersionReplay,
      topic: record.topic,
      until: await catalog.offsets(record.version, record.topic),
      timeZone: (await catalog.timeZone(record.version)) ?? context.defaultTimeZone,
      // The bound the version's aggregator applied: another one would explain other records away.
      maxFutureMs: (await catalog.maxFuture(record.version)) ?? DEFAULT_MAX_FUTURE_MS,
      dims: record.dims,
    })),
  );
  await replayLogs(targets, context.source);
  return { from: replays[0] as VersionReplay, to: replays[1] as VersionReplay, records };
}

/** The rows' counts in both versions' tables, checked against the replays. */
async function tableCounts(catalog: Catalog, version: VersionRecord, dims: ReadonlySet<Dimension>) {
  const tables = new Map<Dimension, Map<string, number>>();
  for (const dim of dims)
    tables.set(dim, version.dims.includes(dim) ? await catalog.table(version.version, dim) : new Map<string, number>());
  return (row: RowRef) => tables.get(row.dim)?.get(`${row.windowStart}|${row.key}`) ?? 0;
}

/** `kappa explain vA vB dim key window`: the events that make each row differ, exactly. */
export async function explainRows(
  context: ExplainContext,
  from: string,
  to: string,
  rows: readonly RowRef[],
): Promise<RowExplanation[]> {
  const starts = new Set(rows.map((row) => row.windowStart));
  const replayed = await replayBoth(context, from, to, (start) => starts.has(start));
  return explainReplayed(context.catalog, replayed, rows);
}

async function explainReplayed(
  catalog: Catalog,
  { from, to, records }: Replayed,
  rows: readonly RowRef[],
): Promise<RowExplanation[]> {
  const dims = new Set(rows.map((row) => row.dim));
  const [countFrom, countTo] = [
    await tableCounts(catalog, records[0], dims),
    await tableCounts(catalog, records[1], dims),
  ];
  return rows.map((row) =>
    explainRow(from, to, row.dim, row.key, row.windowStart, { from: countFrom(row), to: countTo(row) }),
  );
}

/** Whether a replay read up to `reached` can go on to `progress`: no partition went back. */
function continues(reached: PartitionOffsets, progress: PartitionOffsets): boolean {
  return [...reached].every(([partition, offset]) => (progress.get(partition) ?? 0n) >= offset);
}

/**
 * The live diff's explanations (issue 25): the rows of each newly compared range of windows,
 * explained by both versions' replays *continued* from where the last pass stopped — not replayed
 * from the log's start every pass. Exact as `explainRows` is: the same engine steps over the same
 * records in log order, only in several reads. Windows explained are forgotten (the live diff
 * compares each window once), so what a replay keeps is bounded by the windows not yet compared.
 */
export class ContinuedExplainer {
  private state: { replayed: Replayed; reached: [PartitionOffsets, PartitionOffsets] } | undefined;
  /** Windows starting at or before this have been explained: a replay keeps nothing of them. */
  private forgotten = Number.NEGATIVE_INFINITY;
  /**
   * What the read under way keeps: the windows asked about and those not yet compared (after
   * `through`: later passes ask about them). Not every window of the log: a first pass over a
   * long history would hold every event in memory.
   */
  private reading: { readonly through: number; readonly asked: ReadonlySet<number> } = {
    through: Number.NEGATIVE_INFINITY,
    asked: new Set(),
  };

  constructor(
    private readonly context: ExplainContext,
    readonly from: string,
    readonly to: string,
  ) {}

  /** Explains `rows` (windows closed in both) and forgets every window starting at or before `through`. */
  async explain(rows: readonly RowRef[], through: number): Promise<RowExplanation[]> {
    const { catalog } = this.context;
    const records = [await catalog.version(this.from), await catalog.version(this.to)] as const;
    const progress = [
      await catalog.offsets(records[0].version, records[0].topic),
      await catalog.offsets(records[1].version, records[1].topic),
    ] as const;
    let state = this.state;
    // A version started over (re-created, another topic): its replay starts over too.
    if (
      state === undefined ||
      state.replayed.records[0].topic !== records[0].topic ||
      state.replayed.records[1].topic !== records[1].topic ||
      !continues(state.reached[0], progress[0]) ||
      !continues(state.reached[1], progress[1])
    ) {
      const wanted = (start: number) =>
        start > this.forgotten && (start > this.reading.through || this.reading.asked.has(start));
      const [a, b] = records.map((record) => new VersionReplay(record.version, record.settings, record.dims, wanted));
      state = {
        replayed: { from: a as VersionReplay, to: b as VersionReplay, records },
        reached: [new Map(), new Map()],
      };
    }
    // Until this read completes the replays are between two states: a failure starts them over.
    this.state = undefined;
    const { replayed, reached } = state;
    this.reading = { through, asked: new Set(rows.map((row) => row.windowStart)) };
    const replays = [replayed.from, replayed.to];
    const targets = await Promise.all(
      records.map(async (record, index) => ({
        replay: replays[index] as VersionReplay,
        topic: record.topic,
        from: reached[index] as PartitionOffsets,
        until: progress[index] as PartitionOffsets,
        timeZone: (await catalog.timeZone(record.version)) ?? this.context.defaultTimeZone,
        dims: record.dims,
      })),
    );
    await replayLogs(targets, this.context.source);
    const explained = await explainReplayed(catalog, replayed, rows);
    if (through > this.forgotten) this.forgotten = through;
    for (const replay of replays) replay.forget(this.forgotten);
    this.state = { replayed, reached: [progress[0], progress[1]] };
    return explained;
  }
}

/** The late events `to` recovered, by where they fall in `to`. */
export interface LateReconciliation {
  /** Late in `from` (counted in none of its windows), counted in `to`. */
  readonly recovered: number;
  /** … whose windows in `to` are all closed in both versions: they are in the diff's row deltas. */
  readonly inClosedWindows: number;
  /** … with a window not closed yet in `to` (or in `from`): not compared yet. */
  readonly inWindowsNotClosed: number;
  /** Late in `to` but not in `from` (a shorter watermark, or events `to` read in another order). */
  readonly lostInTo: number;
}

export interface ExplainedDiff {
  readonly diff: VersionDiff;
  /** Every row that differs or is in one version only, in windows closed in both. */
  readonly rows: readonly RowExplanation[];
  readonly late: LateReconciliation;
}

function rowsOf(diff: VersionDiff): RowRef[] {
  const rows: RowRef[] = [];
  const parse = (dim: Dimension, row: string): RowRef => {
    const bar = row.indexOf('|');
    return { dim, windowStart: Number(row.slice(0, bar)), key: row.slice(bar + 1) };
  };
  for (const [dim, table] of Object.entries(diff.tables)) {
    if (!isDimension(dim) || table === undefined) continue;
    for (const row of table.differing) rows.push(parse(dim, row.key));
    for (const row of [...table.onlyFrom, ...table.onlyTo]) rows.push(parse(dim, row));
  }
  return rows;
}

/**
 * `kappa diff --explain`, `cutover --require-explained`, the live diff: every differing row of
 * the windows closed in both, explained from one replay of each version's log, and the late
 * events recovered split by whether their windows are closed in both.
 */
export async function explainDiff(context: ExplainContext, from: string, to: string): Promise<ExplainedDiff> {
  const { catalog } = context;
  const diff = await diffVersions(catalog, from, to);
  const rows = rowsOf(diff);
  const starts = new Set(rows.map((row) => row.windowStart));
  const replayed = await replayBoth(context, from, to, (start) => starts.has(start));
  const [a, b] = replayed.records;
  const watermarks = async (record: VersionRecord) =>
    new Map((await catalog.progress(record.version, record.topic)).map((row) => [row.partition, row.watermark]));
  const [horizonFrom, horizonTo] = closedHorizons(await watermarks(a), await watermarks(b));
  const closedInBoth = (start: number) =>
    start + a.settings.sizeMs <= horizonFrom && start + b.settings.sizeMs <= horizonTo;
  const lateTo = replayed.to.lateEvents();
  let inClosedWindows = 0;
  let inWindowsNotClosed = 0;
  for (const [id, time] of replayed.from.lateEvents()) {
    if (lateTo.has(id)) continue;
    if (windowsOf(time, b.settings).every(closedInBoth)) inClosedWindows += 1;
    else inWindowsNotClosed += 1;
  }
  const lateFrom = replayed.from.lateEvents();
  const lostInTo = [...lateTo.keys()].filter((id) => !lateFrom.has(id)).length;
  return {
    diff,
    rows: await explainReplayed(catalog, replayed, rows),
    late: { recovered: inClosedWindows + inWindowsNotClosed, inClosedWindows, inWindowsNotClosed, lostInTo },
  };
}

/** The first row a cutover with `--require-explained` refuses for: not exact, or not lateness alone. */
export function firstUnexplained(rows: readonly RowExplanation[]): RowExplanation | undefined {
  return rows.find((row) => !row.exact || !row.byLateness);
}

export function unexplainedError(row: RowExplanation, describe: (row: RowExplanation) => string): KappaError {
  return new KappaError(
    'KAPPA_CUTOVER_UNEXPLAINED',
    `cutover to ${row.to} refused: a row differs for a reason other than lateness — ${describe(row)}`,
  );
}
