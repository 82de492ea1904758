import type { IHeaders, Message } from 'kafkajs';
import { SchemaCounter } from './schema-counts.js';
import { countIncident } from '../shared/incidents.js';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { planBatch, type BatchPlan, type Classified } from './batch-plan.js';
import type { AggregateSink } from './sink.js';
import { PartitionWindows, type WindowRow } from './window-engine.js';
import { type WindowSettings } from '../model/window-settings.js';

/** A record of the stages topic as fetched: what the engine needs comes from `classify`. */
export interface StagedRecord {
  readonly offset: bigint;
  /** The record's timestamp in the log (what its event time is bounded by: SPEC §1.1). */
  readonly timestampMs: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** Messages for one topic (the late topic, the dead-letter topic). */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
}

export interface AggregateMetrics {
  in: number;
  late: number;
  rows: number;
  bad: number;
}

export function newAggregateMetrics(): AggregateMetrics {
  return { in: 0, late: 0, rows: 0, bad: 0 };
}

/** When a partition commits: whichever limit comes first (the last record of a batch always commits). */
export interface CommitLimits {
  /** Records processed since the last commit. */
  readonly maxRecords: number;
  /** Rows in one commit: a single event may close millions of (window, key) rows. */
  readonly maxRows: number;
  /** Processing time since the last commit (ms), looked at every 256 records. */
  readonly maxMs: number;
}

export const DEFAULT_LIMITS: CommitLimits = { maxRecords: 50_000, maxRows: 20_000, maxMs: 1_000 };

/**
 * Records between two looks at the clock for `maxMs` (counted since the last commit): `Date.now()`
 * costs ~35 ns, ~2 % of a record's whole replay path when asked per record (bench/README.md), and
 * 256 records take well under a millisecond, so a time-limited commit comes that little later.
 */
const CLOCK_EVERY_RECORDS = 256;

export interface DriverOptions {
  readonly version: string;
  readonly stagesTopic: string;
  readonly settings: WindowSettings;
  readonly sink: AggregateSink;
  /** A fetched record → an event for the engine, or a bad record. Synchronous: no await per record. */
  readonly classify: (record: StagedRecord) => Classified;
  /** Sends late events and dead letters; called before the commit that counts them (at least once). */
  readonly publish: (batches: readonly TopicMessages[]) => Promise<void>;
  readonly lateTopic?: string;
  readonly deadLetterTopic: string;
  readonly limits?: Partial<CommitLimits>;
  readonly metrics?: AggregateMetrics;
  readonly clock?: () => number;
  readonly logger?: Logger;
  /**
   * Told after each commit that went through — the partition and its committed next offset — its
   * counts in `metrics` (synchronously; must not throw).
   */
  readonly onCommitted?: (partition: number, nextOffset: bigint) => void;
  /**
   * Where the partition's log starts (its earliest offset), asked only when a fetch right after a
   * seek still starts beyond the progress: retention, or a batch fetched before the seek took
   * effect. Without it such a gap is taken for retention.
   */
  readonly logStart?: (partition: number) => Promise<bigint>;
}

/** How the caller's batch loop takes part: stop early, and hear of each commit (resolve offsets, heartbeat). */
export interface BatchControl {
  isActive(): boolean;
  /**
   * The records before `nextOffset` are processed — committed, or carried into the next batch of a
   * backlog: the consumer fetches on from there (the sink's progress stays the truth on restart).
   */
  committed(nextOffset: bigint): Promise<void>;
}

/** Where a batch came from in the log (see `AggregationDriver.batch`). */
export interface Fetched {
  readonly from?: bigint;
  readonly end?: bigint;
  readonly backlog?: boolean;
}

export type BatchOutcome =
  | { readonly kind: 'done' }
  /** The fetch started beyond the committed progress: seek the consumer there and drop the batch. */
  | { readonly kind: 'seek'; readonly offset: bigint }
  /** The caller stopped the batch (rebalance, shutdown) before its end. */
  | { readonly kind: 'stopped' };

/** Processed, not yet committed: a backlog batch's tail, carried into the partition's next batch. */
interface Pending {
  readonly rows: WindowRow[];
  readonly late: Message[];
  readonly dead: Message[];
  readonly counted: { in: number; late: number; bad: number };
  /** Records since the last commit, and when that commit was (the limits run across batches). */
  readonly since: number;
  readonly startedAt: number;
}

interface PartitionState {
  readonly windows: PartitionWindows;
  /** The committed progress: the sink's next offset. */
  next: bigint;
  /** Where processing stands: `next`, or beyond it while `pending` work waits for its commit. */
  position: bigint;
  pending?: Pending;
  seq: number;
  bad: number;
  /** Records read so far by writer schema id, from the log's start (undefined: not known, not counted). */
  schemaCounts: SchemaCounter | undefined;
  lastDataAt: number;
  soughtTo?: bigint;
}

const ALWAYS: BatchControl = { isActive: () => true, committed: () => Promise.resolve() };

/** Late events (when published) and dead letters, as the sends that go before a commit. */
function sideRecords(
  lateTopic: string | undefined,
  late: readonly Message[],
  deadLetterTopic: string,
  dead: readonly Message[],
): TopicMessages[] {
  const side: TopicMessages[] = [];
  if (lateTopic !== undefined && late.length > 0) side.push({ topic: lateTopic, messages: late });
  if (dead.length > 0) side.push({ topic: deadLetterTopic, messages: dead });
  return side;
}

/**
 * The aggregator without a broker (like Kafka Streams' TopologyTestDriver): batches of a
 * partition's records in, commits to the sink out. It decides everything the kafkajs adapter
 * (run.ts) must not: skipping records below the committed progress, seeking when a fetch starts
 * beyond it, moving past transaction markers, counting, bad records, and when and what to commit.
 *
 * The sink's progress is the truth. Any failure (a lost commit race, MySQL down, a failed send)
 * forgets the partition's in-memory state: the next batch reloads it from the sink.
 */
export class AggregationDriver {
  private readonly states = new Map<number, Promise<PartitionState>>();
  /** Serialises the work on one partition (batches, marker-only fetches, idle closing). */
  private readonly locks = new Map<number, Promise<unknown>>();
  readonly metrics: AggregateMetrics;
  private readonly limits: CommitLimits;
  private readonly clock: () => number;

  constructor(private readonly options: DriverOptions) {
    this.metrics = options.metrics ?? newAggregateMetrics();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? Date.now;
  }

  /** After a rebalance the sink says where each partition stands: forget what memory says. */
  forget(partition?: number): void {
    if (partition === undefined) this.states.clear();
    else this.states.delete(partition);
  }

  /**
   * Where the consumer must be sought to for a newly assigned partition: its committed progress,
   * whatever offset the consumer group committed. Undefined for a partition without progress
   * (offset 0): the consumer starts a group without offsets at the log's start anyway, and a seek
   * there would only make its first fetch stale (fetched again: ~20 ms of every recovery's start).
   * A group whose offsets point elsewhere is sought back by its first batch (planBatch).
   */
  position(partition: number): Promise<bigint | undefined> {
    return this.exclusive(partition, async () => {
      const state = await this.state(partition);
      if (state.next === 0n) return undefined;
      state.soughtTo = state.next;
      return state.next;
    });
  }

  /** Partitions with state in memory. */
  partitions(): number[] {
    return [...this.states.keys()];
  }

  /**
   * One fetched batch of a partition. `fetchedFrom` is where the fetch started, `fetchedEnd` one
   * past its last record, control records and aborted records included (progress moves past
   * them too, so a caught-up version has no lag; never past what was fetched). `backlog`: more
   * records wait right behind this batch (a replay catching up) — then the batch's tail may be
   * carried into the next batch rather than committed, so a replay commits by the limits (about
   * once a second), not once per fetch; a batch without backlog always ends with a commit.
   */
  batch(
    partition: number,
    records: readonly StagedRecord[],
    fetched: Fetched = {},
    control: BatchControl = ALWAYS,
  ): Promise<BatchOutcome> {
    return this.exclusive(partition, () => this.run(partition, records, fetched, control));
  }

  /** A fetch that held only transaction markers or aborted records (kafkajs calls no eachBatch for it). */
  skipped(partition: number, from: bigint, end: bigint): Promise<BatchOutcome> {
    return this.batch(partition, [], { from, end });
  }

  /**
   * `--idle-close`: the open windows of partitions quiet for `idleMs` (processing time) are closed
   * and committed, marked. The commit number guards them: a stale owner's close is refused.
   */
  async idleClose(idleMs: number): Promise<number> {
    let closed = 0;
    for (const partition of this.partitions()) {
      await this.exclusive(partition, async () => {
        const state = await this.states.get(partition)?.catch(() => undefined);
        if (state === undefined || !state.windows.hasOpenWindows() || this.clock() - state.lastDataAt < idleMs) return;
        // Work carried from a backlog batch is committed first: the snapshot already holds it.
        const pending = state.pending;
        if (pending !== undefined) {
          state.pending = undefined;
          const side = sideRecords(this.options.lateTopic, pending.late, this.options.deadLetterTopic, pending.dead);
          await this.commit(partition, state, state.position, pending.rows, side, false, pending.counted);
        }
        while (state.windows.hasOpenWindows()) {
          const rows = state.windows.closeAll(this.limits.maxRows);
          await this.commit(partition, state, state.next, rows, [], true);
          closed += rows.length;
        }
      }).catch((error: unknown) => {
        countIncident('swallowed', 'idle-close');
        this.options.logger?.warn({ err: error, partition }, 'idle close failed; reloading the partition');
      });
    }
    return closed;
  }

  private exclusive<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const result = (this.locks.get(partition) ?? Promise.resolve()).then(work);
    this.locks.set(
      partition,
      result.catch(() => undefined),
    );
    return result;
  }

  private state(partition: number): Promise<PartitionState> {
    let state = this.states.get(partition);
    if (state === undefined) {
      state = this.options.sink.load(partition).then((progress): PartitionState => ({
        windows: new PartitionWindows(this.options.settings, progress.snapshot),
        next: progress.nextOffset,
        position: progress.nextOffset,
        seq: progress.seq,
        bad: progress.badRecords,
        // A partition that committed nothing yet starts counting; one committed without counts
        // (by a kappa that did not count) can never know what it read before.
        schemaCounts:
          progress.schemaCounts !== undefined
            ? new SchemaCounter(new Map(progress.schemaCounts))
            : progress.nextOffset === 0n
              ? new SchemaCounter(new Map())
              : undefined,
        lastDataAt: this.clock(),
      }));
      this.states.set(partition, state);
      state.catch(() => this.states.delete(partition));
    }
    return state;
  }

  private async run(
    partition: number,
    records: readonly StagedRecord[],
    fetched: Fetched,
    control: BatchControl,
  ): Promise<BatchOutcome> {
    const state = await this.state(partition);
    let plan: BatchPlan = planBatch(
      state.position,
      records.map((record) => record.offset),
      fetched.from,
      state.soughtTo,
    );
    if (plan.kind === 'process' && plan.gap) {
      const logStart = await this.options.logStart?.(partition);
      if (logStart !== undefined && logStart <= state.position) {
        // The records from the progress on are in the log: this fetch began before the seek took
        // effect (kafkajs fetched from the group's offsets), so it is sought back again.
        this.options.logger?.warn(
          { partition, from: fetched.from, progress: state.position, logStart },
          'fetched beyond the progress right after a seek, though the log starts before it',
        );
        plan = { kind: 'seek', offset: state.position };
      } else
        this.options.logger?.warn(
          { partition, from: fetched.from, progress: state.position },
          'the log starts beyond the progress (retention?): records were never readable',
        );
    }
    if (plan.kind === 'seek') {
      state.soughtTo = plan.offset;
      this.options.logger?.info({ partition, offset: plan.offset }, 'fetched beyond the progress: seeking back');
      return plan;
    }
    try {
      return await this.process(partition, state, records, plan.from, fetched, control);
    } catch (error) {
      this.forget(partition);
      throw error;
    }
  }

  private async process(
    partition: number,
    state: PartitionState,
    records: readonly StagedRecord[],
    from: number,
    fetched: Fetched,
    control: BatchControl,
  ): Promise<BatchOutcome> {
    const { windows } = state;
    const { maxRecords, maxRows, maxMs } = this.limits;
    const { lateTopic, deadLetterTopic, version } = this.options;
    const carried = state.pending;
    state.pending = undefined;
    let rows: WindowRow[] = carried?.rows ?? [];
    let late: Message[] = carried?.late ?? [];
    let dead: Message[] = carried?.dead ?? [];
    let counted = carried?.counted ?? { in: 0, late: 0, bad: 0 };
    let since = carried?.since ?? 0;
    let startedAt = carried?.startedAt ?? this.clock();
    // Whether the batch is still ours (running, not sought elsewhere) changes only across an await:
    // asked here and after each commit, which is what asking before every record answered.
    let active = control.isActive();
    const flush = async (nextOffset: bigint) => {
      const side = sideRecords(lateTopic, late, deadLetterTopic, dead);
      await this.commit(partition, state, nextOffset, rows, side, false, counted);
      rows = [];
      late = [];
      dead = [];
      counted = { in: 0, late: 0, bad: 0 };
      since = 0;
      startedAt = this.clock();
      await control.committed(nextOffset);
      active = control.isActive();
    };
    if (records.length > from) state.lastDataAt = this.clock();
    for (let index = from; index < records.length; index += 1) {
      if (!active) {
        // Whatever ran ahead of the last commit is redone by whoever owns the partition next.
        this.forget(partition);
        return { kind: 'stopped' };
      }
      const record = records[index] as StagedRecord;
      state.schemaCounts?.count(record.value);
      const classified = this.options.classify(record);
      if (classified.kind === 'bad') {
        state.bad += 1;
        counted.bad += 1;
        dead.push(deadLetter(record, partition, this.options.stagesTopic, version, classified));
      } else {
        const result = windows.advance(classified.event);
        counted.in += 1;
        if (result.late) {
          counted.late += 1;
          if (lateTopic !== undefined)
            late.push({
              key: record.key,
              value: record.value,
              headers: {
                'kappa.version': version,
                'kappa.source.partition': String(partition),
                'kappa.source.offset': String(record.offset),
              },
            });
        }
      }
      // A single event may close any number of rows: they are committed in chunks of maxRows,
      // the rest waiting in the snapshot (the commit's offset is already past the event).
      while (windows.hasClosedWindows()) {
        for (const row of windows.drain(maxRows - rows.length)) rows.push(row);
        if (rows.length >= maxRows) await flush(record.offset + 1n);
      }
      since += 1;
      if (since >= maxRecords || (since % CLOCK_EVERY_RECORDS === 0 && this.clock() - startedAt >= maxMs))
        await flush(record.offset + 1n);
    }
    const last = records.at(-1);
    let end = last === undefined ? state.position : last.offset + 1n;
    if (end < state.position) end = state.position;
    if (fetched.end !== undefined && fetched.end > end) end = fetched.end;
    if (end <= state.next && rows.length === 0 && since === 0) return { kind: 'done' };
    if (fetched.backlog === true) {
      // More is waiting right behind: carry this tail into the next batch; the limits commit it.
      state.pending = { rows, late, dead, counted, since, startedAt };
      state.position = end;
      await control.committed(end);
      return { kind: 'done' };
    }
    await flush(end);
    return { kind: 'done' };
  }

  /** Side records first (at least once), then rows and progress in one commit of the sink. */
  private async commit(
    partition: number,
    state: PartitionState,
    nextOffset: bigint,
    rows: readonly WindowRow[],
    side: readonly TopicMessages[],
    idleClosed: boolean,
    counted = { in: 0, late: 0, bad: 0 },
  ): Promise<void> {
    if (side.length > 0) await this.options.publish(side);
    const { windows } = state;
    const watermark = windows.watermark();
    const committed = await this.options.sink.commit({
      partition,
      expected: { nextOffset: state.next, seq: state.seq },
      nextOffset,
      rows,
      snapshot: windows.snapshot(),
      lateEvents: windows.late,
      lateWindows: windows.lateWindows,
      badRecords: state.bad,
      ...(state.schemaCounts === undefined ? {} : { schemaCounts: new Map(state.schemaCounts.settled()) }),
      watermark: Number.isFinite(watermark) ? watermark : null,
      ...(idleClosed ? { idleClosed } : {}),
    });
    if (!committed) {
      this.forget(partition);
      throw new KappaError(
        'KAPPA_PROGRESS_MOVED',
        `${this.options.stagesTopic}[${partition}] progress of ${this.options.version} moved: another instance owns it now`,
      );
    }
    state.next = nextOffset;
    state.position = nextOffset;
    state.seq += 1;
    this.metrics.rows += rows.length;
    this.metrics.in += counted.in;
    this.metrics.late += counted.late;
    this.metrics.bad += counted.bad;
    this.options.onCommitted?.(partition, nextOffset);
  }
}

/** A record the aggregator cannot use, with the reason headers the enrichment's dead letters carry. */
function deadLetter(
  record: StagedRecord,
  partition: number,
  topic: string,
  version: string,
  bad: Extract<Classified, { kind: 'bad' }>,
): Message {
  const headers: IHeaders = {
    'kappa.dlq.reason': bad.reason,
    'kappa.dlq.detail': bad.detail,
    'kappa.dlq.stage': 'aggregate',
    'kappa.version': version,
    'kappa.source.topic': topic,
    'kappa.source.partition': String(partition),
    'kappa.source.offset': String(record.offset),
  };
  return { key: record.key, value: record.value, headers };
}
