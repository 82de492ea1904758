import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type WriteError,
} from 'mongodb';
import { KappaError } from '../shared/errors.js';
import { runningTzVersion } from '../shared/tz-database.js';
import { retry as retrying } from '../shared/retry.js';
import { sqlKey, type Dimension } from '../model/dimensions.js';
import { jobNames } from './job-names.js';
import { digestUpdates, MONGO_DIGESTS } from './mongo-digest-store.js';
import type { AggregateSink, CommitRequest, PartitionProgress, PreparedVersion, VersionSpec } from './sink.js';
import { recordedSettingsOfRow, settingsMismatch, versionRowOf } from '../model/version-settings.js';
import { digestIncrements } from './window-digest.js';
import type { PartitionSnapshot, WindowRow } from './window-engine.js';

const DUPLICATE_KEY = 11000;
/** Rows that lost an insert race to another partition: another round applies them (retry.ts asks `retriable`). */
class DuplicateKeyRace extends Error {
  readonly retriable = true;
}
const DUPLICATE_KEY_RETRY = { attempts: 6, initialDelayMs: 5, maxDelayMs: 100 } as const;

/** One commit's rows, written into the progress document before they are applied. */
export interface PendingRows {
  readonly seq: number;
  /** [windowStart, windowEnd, dim, key, count] */
  readonly rows: readonly (readonly [number, number, string, string, number])[];
  readonly idleClosed: boolean;
}

interface ProgressDoc {
  _id: string;
  version: string;
  topic: string;
  partition: number;
  /** Commits so far: every commit of the partition has the next number. */
  seq: number;
  next_offset: number;
  late_events: number;
  late_windows?: number;
  bad_records?: number;
  watermark_ms: number | null;
  /** PartitionSnapshot as JSON (exact round trip, like the MySQL sink's column). */
  snapshot: string;
  updated_at: Date;
  pending?: PendingRows;
}

interface VersionDoc {
  _id: string;
  window_ms: number;
  slide_ms: number;
  watermark_ms: number;
  dims: string;
  stages_topic?: string;
  time_zone?: string;
  sink?: string;
  /** The tz database release it was created with (absent: created before kappa recorded it). */
  tz_version?: string;
  /** KAPPA_MAX_FUTURE (absent: created before kappa recorded it). */
  max_future_ms?: number;
  state: string;
  created_at: Date;
}

/** On each row document: the last commit number of each partition applied to it. */
const APPLIED = 'kappa_applied';

function appliedField(partition: number): string {
  return `${APPLIED}.${partition}`;
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * The MongoDB sink: the same rows as the MySQL sink, in collections of the same names
 * (`events_users_v1` …, one document per window and key: window_start, window_end, the key's
 * column, count, idle_closed), progress in `kappa_progress`, versions in `kappa_versions`.
 *
 * MongoDB outside a replica set has no multi-document transactions, so a commit is made safe in
 * three steps instead: (1) the new progress and the commit's rows go into the partition's progress
 * document in one atomic single-document write, guarded by the commit number the sink last saw
 * (another instance's commit in between makes it fail: nothing written); (2) the rows are applied,
 * each update guarded by the partition's commit number stored on the row document
 * (`kappa_applied.<partition>`), so applying twice adds once; (3) the pending rows are cleared.
 * A crash after (1) leaves the rows pending: whoever loads the partition next applies them first.
 * The windows' digests (`kappa_window_digests`, for `kappa verify`) are applied in step (2) by the
 * same guard, from the same pending rows: exactly once, as the MySQL sink's are in its transaction.
 */
export class MongoSink implements AggregateSink {
  private readonly names;
  private readonly progress: Collection<ProgressDoc>;
  private readonly versions: Collection<VersionDoc>;
  /** The commit number and offset last seen per partition (from load or this sink's own commits). */
  private readonly seen = new Map<number, { seq: number; nextOffset: bigint }>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    version: string,
    private readonly topic: string,
  ) {
    this.names = jobNames(version);
    this.progress = db.collection<ProgressDoc>('kappa_progress');
    this.versions = db.collection<VersionDoc>('kappa_versions');
  }

  /** Connects to the database named in the URL's path. */
  static async open(mongodbUrl: string, version: string, topic: string): Promise<MongoSink> {
    const client = new MongoClient(mongodbUrl, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    return new MongoSink(client, client.db(), version, topic);
  }

  async prepare(spec: VersionSpec): Promise<PreparedVersion> {
    const { settings } = spec;
    const tzVersion = runningTzVersion();
    await this.versions
      .insertOne({
        _id: spec.version,
        ...versionRowOf(settings),
        ...(tzVersion === null ? {} : { tz_version: tzVersion }),
        state: 'catching-up',
        created_at: new Date(),
      })
      .catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
    const stored = await this.versions.findOne({ _id: spec.version });
    const problem =
      stored === null ? undefined : settingsMismatch(spec.version, recordedSettingsOfRow(stored), settings);
    if (problem !== undefined) throw new KappaError('KAPPA_VERSION_SETTINGS_MISMATCH', problem);
    if (stored !== null && stored.time_zone === undefined)
      await this.versions.updateOne(
        { _id: spec.version },
        { $set: { stages_topic: settings.stagesTopic, time_zone: settings.timeZone, sink: settings.sink } },
      );
    if (stored !== null && stored.max_future_ms === undefined)
      await this.versions.updateOne({ _id: spec.version }, { $set: { max_future_ms: settings.maxFutureMs } });
    return { tzVersion: stored?.tz_version ?? null };
  }

  private progressId(partition: number): string {
    return `${this.names.version}|${this.topic}|${partition}`;
  }

  async load(partition: number): Promise<PartitionProgress> {
    const doc = await this.progress.findOne({ _id: this.progressId(partition) });
    if (doc === null) {
      this.seen.set(partition, { seq: 0, nextOffset: 0n });
      return { nextOffset: 0n, seq: 0, badRecords: 0 };
    }
    // A commit cut short after step 1: finish it before anything else.
    if (doc.pending !== undefined) await this.finish(partition, doc.pending);
    const nextOffset = BigInt(doc.next_offset);
    this.seen.set(partition, { seq: doc.seq, nextOffset });
    return {
      nextOffset,
      seq: doc.seq,
      badRecords: doc.bad_records ?? 0,
      snapshot: JSON.parse(doc.snapshot) as PartitionSnapshot,
    };
  }

  async commit(request: CommitRequest): Promise<boolean> {
    const pending = await this.stage(request);
    if (pending === undefined) return false;
    await this.finish(request.partition, pending);
    return true;
  }

  /** Step 1: progress and rows into the progress document, atomically; undefined when the progress moved. */
  async stage(request: CommitRequest): Promise<PendingRows | undefined> {
    const seen = this.seen.get(request.partition);
    // The sink's own commit number guards the write (the request's is the same one, from load).
    if (seen === undefined || seen.nextOffset !== request.expected.nextOffset) return undefined;
    const pending: PendingRows = {
      seq: seen.seq + 1,
      rows: request.rows.map((row) => [row.windowStart, row.windowEnd, row.dim, row.key, row.count] as const),
      idleClosed: request.idleClosed === true,
    };
    const fields = {
      version: this.names.version,
      topic: this.topic,
      partition: request.partition,
      seq: pending.seq,
      next_offset: Number(request.nextOffset),
      late_events: request.lateEvents,
      late_windows: request.lateWindows,
      bad_records: request.badRecords,
      watermark_ms: request.watermark,
      snapshot: JSON.stringify(request.snapshot),
      updated_at: new Date(),
      pending,
    };
    const _id = this.progressId(request.partition);
    if (seen.seq === 0) {
      try {
        await this.progress.insertOne({ _id, ...fields });
      } catch (error) {
        if (isDuplicateKey(error)) return undefined;
        throw error;
      }
    } else {
      const result = await this.progress.updateOne({ _id, seq: seen.seq }, { $set: fields });
      if (result.matchedCount === 0) return undefined;
    }
    this.seen.set(request.partition, { seq: pending.seq, nextOffset: request.nextOffset });
    return pending;
  }

  /** Steps 2 and 3: apply the pending rows (idempotently) and clear them. */
  async finish(partition: number, pending: PendingRows): Promise<void> {
    await this.apply(partition, pending);
    // Matches nothing when a newer commit replaced the pending rows: they were applied before it.
    await this.progress.updateOne({ _id: this.progressId(partition), seq: pending.seq }, { $unset: { pending: '' } });
  }

  /** Step 2 alone: adds each row to its document unless this partition's commit `seq` already did. */
  async apply(partition: number, pending: PendingRows): Promise<void> {
    const applied = appliedField(partition);
    const byCollection = new Map<string, { filter: Document; update: Document }[]>();
    for (const [windowStart, windowEnd, dim, key, count] of pending.rows) {
      const column = this.names.column(dim as Dimension);
      const value = sqlKey(dim as Dimension, key);
      const id = { window_start: new Date(windowStart), [column]: value };
      const filter = { _id: id, $or: [{ [applied]: { $exists: false } }, { [applied]: { $lt: pending.seq } }] };
      const update: Document = {
        $set: {
          window_start: new Date(windowStart),
          window_end: new Date(windowEnd),
          [column]: value,
          [applied]: pending.seq,
          ...(pending.idleClosed ? { idle_closed: true } : {}),
        },
        $inc: { count },
        ...(pending.idleClosed ? {} : { $setOnInsert: { idle_closed: false } }),
      };
      const table = this.names.table(dim as Dimension);
      byCollection.set(table, [...(byCollection.get(table) ?? []), { filter, update }]);
    }
    for (const [table, operations] of byCollection)
      await this.applyTo(this.db.collection(table), operations, partition, pending.seq);
    // The windows' digests (issue 26, `kappa verify`) take the commit's increments by the same guard:
    // derived from the pending rows, they are applied exactly once with them.
    const rows: WindowRow[] = pending.rows.map(([windowStart, windowEnd, dim, key, count]) => ({
      windowStart,
      windowEnd,
      dim,
      key,
      count,
    }));
    const dims = [...new Set(rows.map((row) => row.dim as Dimension))];
    await this.applyTo(
      this.db.collection(MONGO_DIGESTS),
      digestUpdates(this.names.version, digestIncrements(rows, dims), applied, pending.seq),
      partition,
      pending.seq,
    );
  }

  /**
   * A duplicate-key error on one of these upserts means either "already applied" (the guard did
   * not match an existing document) or a lost race with another partition inserting the same
   * window and key: the document tells which, and the second kind is retried.
   */
  private async applyTo(
    collection: Collection,
    operations: readonly { filter: Document; update: Document }[],
    partition: number,
    seq: number,
  ): Promise<void> {
    let remaining = operations;
    if (remaining.length === 0) return;
    await retrying(async () => {
      const bulk: AnyBulkWriteOperation[] = remaining.map(({ filter, update }) => ({
        updateOne: { filter, update, upsert: true },
      }));
      let failed: number[] = [];
      try {
        await collection.bulkWrite(bulk, { ordered: false });
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const errors: readonly WriteError[] =
          error.writeErrors instanceof Array ? error.writeErrors : [error.writeErrors];
        if (errors.some((entry) => entry.code !== DUPLICATE_KEY)) throw error;
        failed = errors.map((entry) => entry.index);
      }
      const retry: { filter: Document; update: Document }[] = [];
      for (const index of failed) {
        const operation = remaining[index];
        if (operation === undefined) continue;
        const doc = await collection.findOne({ _id: operation.filter['_id'] as Document });
        const done = Number((doc?.[APPLIED] as Record<string, unknown> | undefined)?.[String(partition)] ?? 0);
        if (done < seq) retry.push(operation);
      }
      remaining = retry;
      if (retry.length > 0)
        throw new DuplicateKeyRace(
          `${retry.length} rows of ${collection.collectionName} kept failing with duplicate keys`,
        );
    }, DUPLICATE_KEY_RETRY);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
