import type { Pool, RowDataPacket } from 'mysql2/promise';
import { sqlKey } from '../aggregates/dimensions.js';
import { jobNames, type Dimension } from '../aggregates/job-names.js';

export interface WindowRowOut {
  readonly window_start: string;
  readonly window_end: string;
  readonly key: string;
  readonly count: number;
  readonly idle_closed: boolean;
}

export interface WindowQuery {
  readonly version: string;
  readonly dim: Dimension;
  readonly from?: Date;
  readonly to?: Date;
  readonly key?: string;
  readonly limit: number;
}

/** `window_start` in [from, to) as SQL conditions and their parameters. */
function windowRange(from: Date | undefined, to: Date | undefined): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  if (from !== undefined) {
    where.push('window_start >= ?');
    values.push(from);
  }
  if (to !== undefined) {
    where.push('window_start < ?');
    values.push(to);
  }
  return { where, values };
}

/** Read-only SQL of the query API; every value is a parameter, identifiers come from jobNames only. */
export class Queries {
  constructor(private readonly pool: Pool) {}

  async tableExists(version: string, dim: Dimension): Promise<boolean> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [jobNames(version).table(dim)],
    );
    return rows.length > 0;
  }

  /** Window counts of one version and dimension, oldest first, windows starting in [from, to). */
  async windows(query: WindowQuery): Promise<WindowRowOut[]> {
    const names = jobNames(query.version);
    const column = names.column(query.dim);
    const { where, values } = windowRange(query.from, query.to);
    if (query.key !== undefined) {
      where.push(`\`${column}\` = ?`);
      values.push(sqlKey(query.dim, query.key));
    }
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT window_start, window_end, \`${column}\` AS k, count, idle_closed FROM \`${names.table(query.dim)}\`${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY window_start DESC, k LIMIT ?`,
      [...values, query.limit],
    );
    return rows
      .map((row) => ({
        window_start: (row['window_start'] as Date).toISOString(),
        window_end: (row['window_end'] as Date).toISOString(),
        key: String(row['k']),
        count: Number(row['count']),
        idle_closed: Number(row['idle_closed']) === 1,
      }))
      .reverse();
  }

  /** The `n` users with the most events in windows starting in [from, to). */
  async topUsers(version: string, n: number, from?: Date, to?: Date): Promise<{ user_name: string; count: number }[]> {
    const names = jobNames(version);
    const { where, values } = windowRange(from, to);
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT user_name, SUM(count) AS total FROM \`${names.table('user')}\`${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY user_name ORDER BY total DESC, user_name LIMIT ?`,
      [...values, n],
    );
    return rows.map((row) => ({ user_name: String(row['user_name']), count: Number(row['total']) }));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
