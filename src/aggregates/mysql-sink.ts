import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { KappaError } from '../shared/errors.js';
import { serveIfNoneServes } from '../recovery/serving-pointer.js';
import { inTransaction } from '../shared/mysql.js';
import { jobNames, type Dimension } from './job-names.js';
import { ensureDatabase, ensureVersionTables, migrate } from './migrations.js';
import {
  settingsMismatch,
  type AggregateSink,
  type CommitRequest,
  type PartitionProgress,
  type VersionSpec,
} from './sink.js';
import type { PartitionSnapshot, WindowRow } from './window-engine.js';

/** Thrown inside a commit's transaction to roll it back: another instance moved the progress. */
class ProgressMoved extends Error {}

/**
 * The MySQL sink: window rows and the partition's progress (offset, windowing state, late count) in
 * ONE MySQL transaction — a crash at any instant leaves either both or neither, so nothing is lost
 * or counted twice. Rows add to totals (`count = count + …`).
 */
export class MySqlSink implements AggregateSink {
  private readonly names;
  private dims: readonly Dimension[] = [];
  /** Some version serves (SPEC §1.4: until one does, the first to commit rows becomes the serving one). */
  private someoneServes = false;

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

  async prepare(spec: VersionSpec): Promise<void> {
    this.dims = spec.dims;
    const connection = await this.pool.getConnection();
    try {
      await migrate(connection);
      await ensureVersionTables(connection, spec.version, spec.dims);
    } finally {
      connection.release();
    }
    const { settings } = spec;
    await this.pool.query(
      `INSERT IGNORE INTO kappa_versions (version, window_ms, slide_ms, watermark_ms, dims, state, created_at, stages_topic) VALUES (?, ?, ?, ?, ?, 'catching-up', UTC_TIMESTAMP(3), ?)`,
      [spec.version, settings.sizeMs, settings.slideMs, settings.delayMs, spec.dims.join(','), this.topic],
    );
    await this.pool.query('UPDATE kappa_versions SET stages_topic = ? WHERE version = ? AND stages_topic IS NULL', [
      this.topic,
      spec.version,
    ]);
    const [rows] = await this.pool.query(
      'SELECT window_ms, slide_ms, watermark_ms FROM kappa_versions WHERE version = ?',
      [spec.version],
    );
    const row = (rows as { window_ms: number | string; slide_ms: number | string; watermark_ms: number | string }[])[0];
    const problem =
      row === undefined
        ? undefined
        : settingsMismatch(
            spec.version,
            { sizeMs: Number(row.window_ms), slideMs: Number(row.slide_ms), delayMs: Number(row.watermark_ms) },
            settings,
          );
    if (problem !== undefined) throw new KappaError('KAPPA_VERSION_SETTINGS_MISMATCH', problem);
  }

  async load(partition: number): Promise<PartitionProgress> {
    const [rows] = await this.pool.query(
      'SELECT next_offset, snapshot FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ?',
      [this.names.version, this.topic, partition],
    );
    const row = (rows as { next_offset: string | number; snapshot: string }[])[0];
    if (row === undefined) return { nextOffset: null };
    return { nextOffset: BigInt(row.next_offset), snapshot: JSON.parse(row.snapshot) as PartitionSnapshot };
  }

  async commit(request: CommitRequest): Promise<boolean> {
    const committed = await this.commitRowsAndProgress(request);
    if (committed && request.rows.length > 0 && !this.someoneServes)
      // Not part of the commit: a failure here is retried with the next commit's rows.
      this.someoneServes = await serveIfNoneServes(this.pool, { version: this.names.version, dims: this.dims }).catch(
        () => false,
      );
    return committed;
  }

  private async commitRowsAndProgress(request: CommitRequest): Promise<boolean> {
    try {
      return await inTransaction(this.pool, async (connection) => {
        const [current] = await connection.query(
          'SELECT next_offset FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ? FOR UPDATE',
          [this.names.version, this.topic, request.partition],
        );
        const found = (current as { next_offset: string | number }[])[0];
        const stored = found === undefined ? null : BigInt(found.next_offset);
        if (stored !== request.expected) throw new ProgressMoved();
        await this.upsertRows(connection, request.rows, request.idleClosed === true);
        await connection.query(
          `INSERT INTO kappa_progress (version, topic, partition_id, next_offset, late_events, watermark_ms, snapshot, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))
           ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), late_events = VALUES(late_events), watermark_ms = VALUES(watermark_ms),
             snapshot = VALUES(snapshot), updated_at = VALUES(updated_at)`,
          [
            this.names.version,
            this.topic,
            request.partition,
            request.nextOffset.toString(),
            request.lateEvents,
            request.watermark,
            JSON.stringify(request.snapshot),
          ],
        );
        return true;
      });
    } catch (error) {
      if (error instanceof ProgressMoved) return false;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async upsertRows(connection: PoolConnection, rows: readonly WindowRow[], idleClosed: boolean): Promise<void> {
    for (const dim of this.dims) {
      const mine = rows.filter((row) => row.dim === dim);
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
              dim === 'age' ? Number(row.key) : row.key,
              row.count,
              idleClosed,
            ]),
          ],
        );
      }
    }
  }
}
