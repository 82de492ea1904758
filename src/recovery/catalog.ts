import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { parseSchemaCounts, type SchemaCounts } from '../aggregates/schema-counts.js';
import { jobNames, type Dimension } from '../aggregates/job-names.js';
import { parseDims, windowOfRow, type VersionRow } from '../model/version-settings.js';
import { ensureDatabase, migrate } from '../aggregates/migrations.js';
import { readDigests } from '../aggregates/digest-store.js';
import type { WindowSettings } from '../model/window-settings.js';
import { KappaError } from '../shared/errors.js';
import { runningTzVersion, tzDrift, type TzDrift } from '../shared/tz-database.js';
import type { PartitionOffsets } from './catch-up.js';
import type { PlannedFigures, StoredPlan } from './plan-progress.js';
import { readPlans, recordPlanned, recordStarted, type PlanKey } from './plan-store.js';
import { servingHistory, servingVersion, switchReaders } from './serving-pointer.js';

/**
 * `backlog-done`: `recover --until-caught-up` consumed everything that was in the log when it
 * started (the log kept growing); `caught-up`: it had no lag at all; `shadow`: `recover --shadow`
 * caught it up and keeps it live beside the serving version, compared, not served.
 */
export const VERSION_STATES = ['catching-up', 'backlog-done', 'caught-up', 'shadow', 'serving', 'retired'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface VersionRecord {
  readonly version: string;
  readonly settings: WindowSettings;
  readonly dims: readonly Dimension[];
  readonly state: VersionState;
  readonly topic: string;
  /** The tz database release it was created with (shared/tz-database.ts); null: unknown (older kappa). */
  readonly tzVersion: string | null;
}

export interface PartitionProgressRow {
  readonly partition: number;
  readonly next: bigint;
  readonly late: number;
  /** (event, window) misses of hopping windows (an event may miss some of its windows only). */
  readonly lateWindows: number;
  /** Records the aggregator could not use (dead-lettered to `<stages topic>.dlq`). */
  readonly badRecords: number;
  readonly watermark: number | null;
}

export { viewName } from './switch-plan.js';

/**
 * kappa's catalogue of job versions in MySQL: `kappa_versions` (settings, state, topic),
 * `kappa_progress` (per partition), `kappa_serving` (who served when) and the views readers query.
 */
export class Catalog {
  private constructor(private readonly pool: Pool) {}

  static async open(mysqlUrl: string): Promise<Catalog> {
    await ensureDatabase(mysqlUrl);
    const pool = createPool({
      uri: mysqlUrl,
      timezone: 'Z',
      connectionLimit: 2,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    const connection = await pool.getConnection();
    try {
      await migrate(connection);
    } finally {
      connection.release();
    }
    return new Catalog(pool);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  async versions(): Promise<VersionRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT version, window_ms, slide_ms, watermark_ms, dims, state, stages_topic, tz_version FROM kappa_versions ORDER BY CAST(SUBSTRING(version, 2) AS UNSIGNED)',
    );
    return rows.map((row) => ({
      version: String(row['version']),
      settings: windowOfRow(row as VersionRow),
      dims: parseDims(String(row['dims'])),
      state: String(row['state']) as VersionState,
      topic: String(row['stages_topic'] ?? ''),
      tzVersion: typeof row['tz_version'] === 'string' ? row['tz_version'] : null,
    }));
  }

  /**
   * The versions created with another tz database release than the running Node's: their replays
   * may put events in other windows (shared/tz-database.ts). For `kappa verify` and the like;
   * versions of unknown release (created before kappa recorded it) are not listed.
   */
  async tzDrifts(running = runningTzVersion()): Promise<TzDrift[]> {
    return (await this.versions()).flatMap((record) => tzDrift(record.version, record.tzVersion, running) ?? []);
  }

  async version(name: string): Promise<VersionRecord> {
    const found = (await this.versions()).find((record) => record.version === name);
    if (found === undefined)
      throw new KappaError(
        'KAPPA_VERSION_UNKNOWN',
        `job version ${name} does not exist; run \`kappa recover --to ${name}\` (or \`kappa aggregate --version ${name}\`) first`,
      );
    return found;
  }

  async progress(version: string, topic: string): Promise<PartitionProgressRow[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT partition_id, next_offset, late_events, late_windows, bad_records, watermark_ms FROM kappa_progress WHERE version = ? AND topic = ? ORDER BY partition_id',
      [version, topic],
    );
    return rows.map((row) => ({
      partition: Number(row['partition_id']),
      next: BigInt(String(row['next_offset'])),
      late: Number(row['late_events']),
      lateWindows: Number(row['late_windows']),
      badRecords: Number(row['bad_records']),
      watermark: row['watermark_ms'] === null ? null : Number(row['watermark_ms']),
    }));
  }

  /**
   * Per partition of `topic`, the most advanced progress of any version that knows what it read
   * (its records by writer schema id, aggregates/schema-counts.ts): what recover's preflight need
   * not read again.
   */
  async schemaCounts(topic: string): Promise<Map<number, { readonly next: bigint; readonly counts: SchemaCounts }>> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT partition_id, next_offset, schema_counts FROM kappa_progress WHERE topic = ? AND schema_counts IS NOT NULL',
      [topic],
    );
    const best = new Map<number, { next: bigint; counts: SchemaCounts }>();
    for (const row of rows) {
      const partition = Number(row['partition_id']);
      const next = BigInt(String(row['next_offset']));
      const counts = parseSchemaCounts(String(row['schema_counts']));
      if (counts === undefined || next <= (best.get(partition)?.next ?? 0n)) continue;
      best.set(partition, { next, counts });
    }
    return best;
  }

  async offsets(version: string, topic: string): Promise<PartitionOffsets> {
    return new Map((await this.progress(version, topic)).map((row) => [row.partition, row.next]));
  }

  async lateEvents(version: string): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT COALESCE(SUM(late_events), 0) AS late FROM kappa_progress WHERE version = ?',
      [version],
    );
    return Number(rows[0]?.['late'] ?? 0);
  }

  /** The time zone a version parses event times in, as recorded (null: created before it was recorded). */
  async timeZone(version: string): Promise<string | null> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT time_zone FROM kappa_versions WHERE version = ?', [
      version,
    ]);
    const zone: unknown = rows[0]?.['time_zone'];
    return typeof zone === 'string' ? zone : null;
  }

  /** The event-time bound a version's aggregator applies (KAPPA_MAX_FUTURE), as recorded (null: not recorded yet). */
  async maxFuture(version: string): Promise<number | null> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT max_future_ms FROM kappa_versions WHERE version = ?',
      [version],
    );
    const bound: unknown = rows[0]?.['max_future_ms'];
    return bound === null || bound === undefined ? null : Number(bound);
  }

  async setState(version: string, state: VersionState, onlyFrom?: VersionState): Promise<void> {
    if (onlyFrom === undefined)
      await this.pool.query('UPDATE kappa_versions SET state = ? WHERE version = ?', [state, version]);
    else
      await this.pool.query('UPDATE kappa_versions SET state = ? WHERE version = ? AND state = ?', [
        state,
        version,
        onlyFrom,
      ]);
  }

  /** Serving versions, the current one first (the history `rollback` walks), repaired from the pointer first. */
  servingHistory(): Promise<string[]> {
    return servingHistory(this.pool);
  }

  /** The version readers see (the pointer view swapped with the views), if any. */
  serving(): Promise<string | undefined> {
    return servingVersion(this.pool);
  }

  /**
   * Points the views and the serving pointer at `to`'s tables in one RENAME TABLE, provided `from`
   * still serves; refused with `refusal` otherwise or when `to` lacks a dimension whose view exists.
   */
  async switchTo(
    to: VersionRecord,
    from: string | undefined,
    refusal: 'KAPPA_CUTOVER_REFUSED' | 'KAPPA_ROLLBACK_REFUSED' = 'KAPPA_CUTOVER_REFUSED',
  ): Promise<void> {
    await switchReaders(this.pool, to, { refusal, expectedCurrent: from });
  }

  /** The recorded replay plans (issue 26), by version. */
  plans(): Promise<Map<string, StoredPlan>> {
    return readPlans(this.pool);
  }

  /** `recover --plan`'s figures, for the dashboard while the version catches up. */
  recordPlan(key: PlanKey, planned: PlannedFigures): Promise<void> {
    return recordPlanned(this.pool, key, planned);
  }

  /**
   * `recover` starting: the records it has to read (the source topic's end offsets) and where the
   * version stands, so the API can measure its rate and ETA.
   */
  async recordReplayStart(key: PlanKey, sourceEnds: PartitionOffsets): Promise<void> {
    const sum = (offsets: PartitionOffsets) => Number([...offsets.values()].reduce((total, next) => total + next, 0n));
    await recordStarted(this.pool, key, {
      atMs: Date.now(),
      records: sum(sourceEnds),
      doneAtStart: sum(await this.offsets(key.version, key.stagesTopic)),
    });
  }

  /** A version's window digests of one dimension (issue 26), by window start. */
  digests(version: string, dim: Dimension): ReturnType<typeof readDigests> {
    return readDigests(this.pool, version, dim);
  }

  /**
   * The rows of windows starting in (after, through] of a version's table, as `table` gives them:
   * what the live diff adds when windows have newly closed in both versions.
   */
  async tableRange(version: string, dim: Dimension, after: number, through: number): Promise<Map<string, number>> {
    const names = jobNames(version);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT window_start, \`${names.column(dim)}\` AS k, count FROM \`${names.table(dim)}\` WHERE window_start > ? AND window_start <= ?`,
      [new Date(Number.isFinite(after) ? after : 0), new Date(through)],
    );
    return new Map(
      rows.map((row) => [`${(row['window_start'] as Date).getTime()}|${String(row['k'])}`, Number(row['count'])]),
    );
  }

  /** A version's table of one dimension as `${windowStart}|${key}` → count. */
  async table(version: string, dim: Dimension): Promise<Map<string, number>> {
    const names = jobNames(version);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT window_start, \`${names.column(dim)}\` AS k, count FROM \`${names.table(dim)}\``,
    );
    return new Map(
      rows.map((row) => [`${(row['window_start'] as Date).getTime()}|${String(row['k'])}`, Number(row['count'])]),
    );
  }
}
