import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { KappaError } from '../shared/errors.js';
import { inTransaction } from '../shared/mysql.js';
import { permanentSqlError } from '../shared/sql-errors.js';
import { countIncident } from '../shared/incidents.js';
import { sqlKey, type Dimension } from '../model/dimensions.js';
import { addDigests } from './digest-store.js';
import { jobNames } from './job-names.js';
import { ensureDatabase, ensureVersionTables, migrate } from './migrations.js';
import { runningTzVersion } from '../shared/tz-database.js';
import type { AggregateSink, CommitRequest, PartitionProgress, PreparedVersion, VersionSpec } from './sink.js';
import { recordedSettingsOfRow, settingsMismatch, versionRowOf, type VersionRow } from '../model/version-settings.js';
import { digestIncrements } from './window-digest.js';
import { parseSchemaCounts, schemaCountsJson } from './schema-counts.js';
import type { PartitionSnapshot, WindowRow } from './window-engine.js';

/** Thrown inside a commit's transaction to roll it back: another instance moved the progress. */
class ProgressMoved extends Error {}

const EMPTY_SNAPSHOT: PartitionSnapshot = { maxEventTime: null, lateEvents: 0, lateWindows: 0, open: [] };

/** Rows in primary-key order (window, then key): concurrent commits lock shared rows in one order. */
function byPrimaryKey(a: WindowRow, b: WindowRow): number {
  if (a.windowStart !== b.windowStart) return a.windowStart - b.windowStart;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The MySQL sink: window rows and the partition's progress (offset, commit number, windowing
 * state, counters) in ONE MySQL transaction — a crash at any instant leaves either both or
 * neither, so nothing is lost or counted twice. Rows add to totals (`count = count + …`), and
 * their windows' digests (window-digest.ts) take the same increments in the same transaction.
 */
export class MySqlSink implements AggregateSink {
  private readonly names;
  private dims: readonly Dimension[] = [];
  /** Commits that failed and were retried by the caller (deadlocks, lock waits): the bench reports them. */
  retries = 0;

  private constructor(
    private readonly pool: Pool,
    version: string,
    private readonly topic: string,
  ) {
    this.names = jobNames(version);
  }

  /** Connects to the database named in the URL, creating it when it does not exist yet. */
  static async open(mysqlUrl: string, version: string, topic: string): Promise<MySqlSink> {
    await ensureDatabase(mysqlUrl);
    const pool = createPool({
      uri: mysqlUrl,
      timezone: 'Z',
      connectionLimit: 4,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    return new MySqlSink(pool, version, topic);
  }

  async prepare(spec: VersionSpec): Promise<PreparedVersion> {
    const { settings } = spec;
    if (settings.stagesTopic !== this.topic)
      throw new Error(`the sink reads ${this.topic}, the version's settings name ${settings.stagesTopic}`);
    this.dims = settings.dims;
    const connection = await this.pool.getConnection();
    try {
      await migrate(connection);
      const row = versionRowOf(settings);
      await connection.query(
        `INSERT IGNORE INTO kappa_versions (version, window_ms, slide_ms, watermark_ms, dims, state, created_at, stages_topic, time_zone, sink, tz_version, max_future_ms)
         VALUES (?, ?, ?, ?, ?, 'catching-up', UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)`,
        [
          spec.version,
          row.window_ms,
          row.slide_ms,
          row.watermark_ms,
          row.dims,
          row.stages_topic,
          row.time_zone,
          row.sink,
          runningTzVersion(),
          row.max_future_ms,
        ],
      );
      const [rows] = await connection.query<RowDataPacket[]>(
        'SELECT window_ms, slide_ms, watermark_ms, dims, stages_topic, time_zone, sink, tz_version, max_future_ms FROM kappa_versions WHERE version = ?',
        [spec.version],
      );
      const recorded = rows[0];
      const problem =
        recorded === undefined
          ? undefined
          : settingsMismatch(spec.version, recordedSettingsOfRow(recorded as VersionRow), settings);
      if (problem !== undefined) throw new KappaError('KAPPA_VERSION_SETTINGS_MISMATCH', problem);
      // Settings an older kappa did not record yet: recorded now, on the version's first start since.
      await connection.query(
        `UPDATE kappa_versions SET stages_topic = COALESCE(stages_topic, ?), time_zone = COALESCE(time_zone, ?), sink = COALESCE(sink, ?),
           max_future_ms = COALESCE(max_future_ms, ?) WHERE version = ?`,
        [settings.stagesTopic, settings.timeZone, settings.sink, settings.maxFutureMs, spec.version],
      );
      await ensureVersionTables(connection, spec.version, settings.dims);
      const tzVersion: unknown = recorded?.['tz_version'];
      return { tzVersion: typeof tzVersion === 'string' ? tzVersion : null };
    } finally {
      connection.release();
    }
  }

  /**
   * A partition without a progress row starts at offset 0 (SPEC §1.3), and gets its row now: a
   * commit then locks an existing row (a `SELECT … FOR UPDATE` of a missing row takes a gap lock,
   * and the first commits of several partitions deadlock on them).
   */
  async load(partition: number): Promise<PartitionProgress> {
    await this.pool.query(
      `INSERT IGNORE INTO kappa_progress (version, topic, partition_id, next_offset, late_events, watermark_ms, snapshot, updated_at)
       VALUES (?, ?, ?, 0, 0, NULL, ?, UTC_TIMESTAMP(3))`,
      [this.names.version, this.topic, partition, JSON.stringify(EMPTY_SNAPSHOT)],
    );
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT next_offset, commit_seq, bad_records, snapshot, schema_counts FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ?',
      [this.names.version, this.topic, partition],
    );
    const row = rows[0];
    if (row === undefined) return { nextOffset: 0n, seq: 0, badRecords: 0 };
    const counts = typeof row['schema_counts'] === 'string' ? parseSchemaCounts(row['schema_counts']) : undefined;
    return {
      nextOffset: BigInt(String(row['next_offset'])),
      seq: Number(row['commit_seq']),
      badRecords: Number(row['bad_records']),
      snapshot: JSON.parse(String(row['snapshot'])) as PartitionSnapshot,
      ...(counts === undefined ? {} : { schemaCounts: counts }),
    };
  }

  async commit(request: CommitRequest): Promise<boolean> {
    try {
      return await inTransaction(this.pool, async (connection) => {
        const [current] = await connection.query<RowDataPacket[]>(
          'SELECT next_offset, commit_seq FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ? FOR UPDATE',
          [this.names.version, this.topic, request.partition],
        );
        const found = current[0];
        if (
          found === undefined ||
          BigInt(String(found['next_offset'])) !== request.expected.nextOffset ||
          Number(found['commit_seq']) !== request.expected.seq
        )
          throw new ProgressMoved();
        await this.upsertRows(connection, request.rows, request.idleClosed === true);
        // After the rows, in the same transaction: every commit locks tables in one order (no deadlock cycle).
        await addDigests(connection, this.names.version, digestIncrements(request.rows, this.dims));
        await connection.query(
          `UPDATE kappa_progress SET next_offset = ?, commit_seq = commit_seq + 1, late_events = ?, late_windows = ?, bad_records = ?,
             schema_counts = ?, watermark_ms = ?, snapshot = ?, updated_at = UTC_TIMESTAMP(3)
           WHERE version = ? AND topic = ? AND partition_id = ?`,
          [
            request.nextOffset.toString(),
            request.lateEvents,
            request.lateWindows,
            request.badRecords,
            request.schemaCounts === undefined ? null : schemaCountsJson(request.schemaCounts),
            request.watermark,
            JSON.stringify(request.snapshot),
            this.names.version,
            this.topic,
            request.partition,
          ],
        );
        return true;
      });
    } catch (error) {
      if (error instanceof ProgressMoved) return false;
      // Data MySQL refuses (an invalid DATETIME, too long…) is refused again on every retry: stop.
      const permanent = permanentSqlError(
        error,
        `committing ${this.names.version}'s partition ${request.partition} of ${this.topic}`,
      );
      if (permanent !== undefined) throw permanent;
      this.retries += 1;
      countIncident('retry', 'mysql-commit');
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async upsertRows(connection: PoolConnection, rows: readonly WindowRow[], idleClosed: boolean): Promise<void> {
    for (const dim of this.dims) {
      const mine = rows.filter((row) => row.dim === dim).sort(byPrimaryKey);
      for (let at = 0; at < mine.length; at += 500) {
        const slice = mine.slice(at, at + 500);
        const column = this.names.column(dim);
        // VALUES(col) in ON DUPLICATE KEY UPDATE: MariaDB 10.11 lacks MySQL 8's row alias; both accept this.
        await connection.query(
          `INSERT INTO \`${this.names.table(dim)}\` (window_start, window_end, \`${column}\`, count, idle_closed) VALUES ?
           ON DUPLICATE KEY UPDATE count = count + VALUES(count), idle_closed = idle_closed OR VALUES(idle_closed)`,
          [
            slice.map((row) => [
              new Date(row.windowStart),
              new Date(row.windowEnd),
              sqlKey(dim, row.key),
              row.count,
              idleClosed,
            ]),
          ],
        );
      }
    }
  }
}
