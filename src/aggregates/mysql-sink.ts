import type { Pool, PoolConnection } from 'mysql2/promise';
import { jobNames, type Dimension } from './job-names.js';
import type { PartitionSnapshot, WindowRow } from './window-engine.js';

export interface PartitionProgress {
  /** The next offset of the partition to process; null before its first commit. */
  readonly nextOffset: bigint | null;
  readonly snapshot?: PartitionSnapshot;
}

export interface CommitRequest {
  readonly partition: number;
  /** The progress this commit continues from: if another instance moved it, nothing is written. */
  readonly expected: bigint | null;
  readonly nextOffset: bigint;
  readonly rows: readonly WindowRow[];
  readonly snapshot: PartitionSnapshot;
  readonly lateEvents: number;
  readonly watermark: number | null;
  /** The rows were closed by `--idle-close` (processing time), not by the watermark: mark them. */
  readonly idleClosed?: boolean;
}

/**
 * The aggregator's sink: window rows and the partition's progress (offset, windowing state, late
 * count) in ONE MySQL transaction — a crash at any instant leaves either both or neither, so
 * nothing is lost or counted twice. Rows add to totals (`count = count + …`): each partition
 * contributes its own counts of a window once, when its watermark closes it.
 */
export class MySqlSink {
  private readonly names;

  constructor(
    private readonly pool: Pool,
    version: string,
    private readonly topic: string,
    private readonly dims: readonly Dimension[],
  ) {
    this.names = jobNames(version);
  }

  async load(partition: number): Promise<PartitionProgress> {
    const [rows] = await this.pool.query('SELECT next_offset, snapshot FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ?', [this.names.version, this.topic, partition]);
    const row = (rows as { next_offset: string | number; snapshot: string }[])[0];
    if (row === undefined) return { nextOffset: null };
    return { nextOffset: BigInt(row.next_offset), snapshot: JSON.parse(row.snapshot) as PartitionSnapshot };
  }

  /** Writes rows and progress atomically; false (nothing written) when the progress had moved. */
  async commit(request: CommitRequest): Promise<boolean> {
    const connection = await this.pool.getConnection();
    try {
      await connection.beginTransaction();
      const [current] = await connection.query('SELECT next_offset FROM kappa_progress WHERE version = ? AND topic = ? AND partition_id = ? FOR UPDATE', [this.names.version, this.topic, request.partition]);
      const found = (current as { next_offset: string | number }[])[0];
      const stored = found === undefined ? null : BigInt(found.next_offset);
      if (stored !== request.expected) {
        await connection.rollback();
        return false;
      }
      await this.upsertRows(connection, request.rows, request.idleClosed === true);
      await connection.query(
        `INSERT INTO kappa_progress (version, topic, partition_id, next_offset, late_events, watermark_ms, snapshot, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), late_events = VALUES(late_events), watermark_ms = VALUES(watermark_ms),
           snapshot = VALUES(snapshot), updated_at = VALUES(updated_at)`,
        [this.names.version, this.topic, request.partition, request.nextOffset.toString(), request.lateEvents, request.watermark, JSON.stringify(request.snapshot)],
      );
      await connection.commit();
      return true;
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
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
          [slice.map((row) => [new Date(row.windowStart), new Date(row.windowEnd), dim === 'age' ? Number(row.key) : row.key, row.count, idleClosed])],
        );
      }
    }
  }
}
