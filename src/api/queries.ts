import type { Pool, RowDataPacket } from 'mysql2/promise';
import { jobNames, type Dimension } from '../aggregates/job-names.js';
import type { WindowSettings } from '../model/window-settings.js';
import { windowOfRow, type VersionRow } from '../model/version-settings.js';
import { isNoSuchTable, servingVersion } from '../recovery/serving-pointer.js';
import { SERVING_POINTER, viewName } from '../recovery/switch-plan.js';
import { RequestError } from './request-error.js';
import type { Stamp } from './stamped-bodies.js';

export interface WindowRowOut {
  readonly window_start: string;
  readonly window_end: string;
  readonly key: string;
  readonly count: number;
  readonly idle_closed: boolean;
}

export interface WindowQuery {
  /** A version asked for; undefined: the serving one. */
  readonly version?: string;
  readonly dim: Dimension;
  readonly from?: Date;
  readonly to?: Date;
  /** Already of the dimension's type (ages are numbers). */
  readonly key?: string | number;
  readonly limit: number;
}

export interface TopQuery {
  readonly version: string;
  readonly n: number;
  readonly from?: Date;
  readonly to?: Date;
  /** Hopping versions: only windows starting at a multiple of this (ms) are summed, so each event counts once. */
  readonly alignedToMs?: number;
  /**
   * Without `from`: only windows starting less than this long (ms) before `to`, or before the
   * newest window, are summed; a request never groups a whole table unasked.
   */
  readonly recentMs?: number;
}

export interface UserTotal {
  readonly user_name: string;
  readonly count: number;
}

/** What the read routes need from storage; the routes' unit tests pass a fake. */
export interface ApiReads {
  /** Rows and the version they come from: the serving one is read in the same statement as its rows. */
  windows(query: WindowQuery): Promise<{ readonly version: string; readonly rows: readonly WindowRowOut[] }>;
  /**
   * What `windows` of `version` (undefined: the serving one) depends on, in one small statement:
   * the version and the sum of its partitions' commit numbers, which every commit of its rows moves
   * (stamped-bodies.ts). Undefined when there is no such stamp (nothing serves).
   */
  windowsStamp(version: string | undefined): Promise<Stamp | undefined>;
  servingVersion(): Promise<string | undefined>;
  /** A version's window settings (they never change), undefined when it does not exist. */
  settingsOf(version: string): Promise<WindowSettings | undefined>;
  topUsers(query: TopQuery): Promise<readonly UserTotal[]>;
  ping(): Promise<void>;
}

/** `window_start` in [from, to) as SQL conditions and their parameters. */
function windowRange(from: Date | undefined, to: Date | undefined, alias = ''): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  if (from !== undefined) {
    where.push(`${alias}window_start >= ?`);
    values.push(from);
  }
  if (to !== undefined) {
    where.push(`${alias}window_start < ?`);
    values.push(to);
  }
  return { where, values };
}

/**
 * A prepared statement's rows as arrays, through mysql2's callback pool. The stamp is asked once per
 * batch of window requests: prepared, MariaDB spent ~50 us of CPU on it where the text statement
 * took ~75-100, and the callback API skips the stack the promise wrapper captures for every query.
 */
function executeRows(pool: Pool, options: { readonly sql: string; readonly values: unknown[] }): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    pool.pool.execute<RowDataPacket[][]>({ ...options, rowsAsArray: true }, (error, rows) => {
      if (error === null) resolve(rows);
      else reject(error);
    });
  });
}

/**
 * Newest window first, both columns descending: the primary key (window_start, key) read backwards.
 * Mixed directions (`window_start DESC, key ASC`) make MySQL and MariaDB sort the whole table.
 */
const NEWEST_FIRST = (alias: string, column: string) => `${alias}window_start DESC, ${alias}\`${column}\` DESC`;

const noSuchVersion = (version: string, dim: Dimension) =>
  new RequestError('KAPPA_VERSION_UNKNOWN', `version ${version} has no ${dim} table`, 'version');

/** `2026-11-24 09:00:10.000` (UTC, as read with dateStrings) → `2026-11-24T09:00:10.000Z`, without a Date. */
export function isoOfUtc(text: string): string {
  return `${text.slice(0, 10)}T${text.slice(11, 23).padEnd(12, '.000').slice(0, 12)}Z`;
}

/** A row read with `rowsAsArray` (no object per row): window_start, window_end, key, count, idle_closed. */
type WindowTuple = [string, string, string | number, string | number, number];

function toRow([start, end, key, count, idle]: WindowTuple): WindowRowOut {
  return {
    window_start: isoOfUtc(start),
    window_end: isoOfUtc(end),
    key: String(key),
    count: Number(count),
    idle_closed: Number(idle) === 1,
  };
}

/**
 * Read-only SQL of the query API; every value is a parameter, identifiers come from jobNames only.
 *
 * The read path asks nothing of `information_schema` and caches nothing that a cutover changes: the
 * serving version's rows are read through the reader views joined with the serving pointer in ONE
 * statement, and a cutover swaps both in one RENAME TABLE — so a request that starts after a
 * cutover returned sees the new version, whichever process made the cutover. A missing table is
 * learned from the query's own error. Only a version's settings, which never change, are cached.
 * The windows route shares one read among identical concurrent requests, but only a read that
 * started after each of them arrived (FreshCoalescer), and keeps a serialised body only for as long
 * as `windowsStamp` says nothing changed (StampedBodies): both keep that guarantee.
 */
export class Queries implements ApiReads {
  private readonly settings = new Map<string, WindowSettings>();

  constructor(private readonly pool: Pool) {}

  async windows(query: WindowQuery): Promise<{ version: string; rows: WindowRowOut[] }> {
    const column = jobNames('v1').column(query.dim);
    if (query.version === undefined) {
      const { where, values } = windowRange(query.from, query.to, 'w.');
      if (query.key !== undefined) {
        where.push(`w.\`${column}\` = ?`);
        values.push(query.key);
      }
      try {
        // One statement reads the serving view's rows and the pointer (an uncorrelated subquery,
        // evaluated once), so both come from the same side of any RENAME TABLE. A UNION ALL with
        // the pointer's row would also keep the version when no window matches, at half the speed
        // (a temporary table): an empty page asks the pointer on its own instead.
        const [rows] = await this.pool.query<RowDataPacket[][]>({
          dateStrings: true,
          rowsAsArray: true,
          sql: `SELECT w.window_start, w.window_end, w.\`${column}\` AS k, w.count, w.idle_closed, (SELECT version FROM \`${SERVING_POINTER}\`) AS v FROM \`${viewName(query.dim)}\` w${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${NEWEST_FIRST('w.', column)} LIMIT ?`,
          values: [...values, query.limit],
        });
        const first = rows[0];
        if (first !== undefined)
          return {
            version: first[5] as unknown as string,
            rows: (rows as unknown[] as WindowTuple[]).map(toRow).reverse(),
          };
        const serving = await servingVersion(this.pool);
        if (serving !== undefined) return { version: serving, rows: [] };
      } catch (error) {
        if (!isNoSuchTable(error)) throw error;
      }
      // No pointer (nothing serves, or views switched before the pointer existed) or no view of this dimension.
      const serving = await servingVersion(this.pool);
      if (serving === undefined)
        throw new RequestError(
          'KAPPA_NO_SERVING_VERSION',
          'no version serves yet: the first version that commits rows will (or ask for ?version=v1)',
          'version',
        );
      return this.windows({ ...query, version: serving });
    }
    const names = jobNames(query.version);
    const { where, values } = windowRange(query.from, query.to);
    if (query.key !== undefined) {
      where.push(`\`${column}\` = ?`);
      values.push(query.key);
    }
    try {
      const [rows] = await this.pool.query<RowDataPacket[][]>({
        dateStrings: true,
        rowsAsArray: true,
        sql: `SELECT window_start, window_end, \`${column}\` AS k, count, idle_closed FROM \`${names.table(query.dim)}\`${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${NEWEST_FIRST('', column)} LIMIT ?`,
        values: [...values, query.limit],
      });
      return { version: query.version, rows: (rows as unknown[] as WindowTuple[]).map(toRow).reverse() };
    } catch (error) {
      if (isNoSuchTable(error)) throw noSuchVersion(query.version, query.dim);
      throw error;
    }
  }

  async windowsStamp(version: string | undefined): Promise<Stamp | undefined> {
    // commit_seq only grows and moves in the transaction of every commit of the version's rows: equal
    // sums at two instants mean no commit in between. One statement: the pointer and the sum agree.
    const commits = 'SELECT COALESCE(SUM(p.commit_seq), 0) FROM kappa_progress p WHERE p.version = ';
    try {
      const rows = await executeRows(this.pool, {
        sql:
          version === undefined
            ? `SELECT s.version, (${commits}s.version) FROM \`${SERVING_POINTER}\` s`
            : `SELECT ?, (${commits}?)`,
        values: version === undefined ? [] : [version, version],
      });
      const row = (rows as [string, string | number][])[0];
      return row === undefined ? undefined : { version: row[0], commits: String(row[1]) };
    } catch (error) {
      if (isNoSuchTable(error)) return undefined;
      throw error;
    }
  }

  servingVersion(): Promise<string | undefined> {
    return servingVersion(this.pool);
  }

  async settingsOf(version: string): Promise<WindowSettings | undefined> {
    const known = this.settings.get(version);
    if (known !== undefined) return known;
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT window_ms, slide_ms, watermark_ms FROM kappa_versions WHERE version = ?',
      [version],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const settings = windowOfRow(row as VersionRow);
    this.settings.set(version, settings);
    return settings;
  }

  /** The `n` users with the most events in windows starting in [from, to). */
  async topUsers(query: TopQuery): Promise<UserTotal[]> {
    const names = jobNames(query.version);
    const { where, values } = windowRange(query.from, query.to);
    if (query.alignedToMs !== undefined) {
      // DATETIME holds UTC: the difference from the epoch literal does not depend on the session's time zone.
      where.push("MOD(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', window_start) DIV 1000, ?) = 0");
      values.push(query.alignedToMs);
    }
    if (query.recentMs !== undefined && query.from === undefined) {
      // The newest window by the primary key (window_start, key) read backwards: one index lookup.
      const end = query.to === undefined ? `(SELECT MAX(window_start) FROM \`${names.table('user')}\`)` : '?';
      where.push(`window_start > DATE_SUB(${end}, INTERVAL ? SECOND)`);
      if (query.to !== undefined) values.push(query.to);
      values.push(query.recentMs / 1_000);
    }
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT user_name, SUM(count) AS total FROM \`${names.table('user')}\`${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY user_name ORDER BY total DESC, user_name LIMIT ?`,
        [...values, query.n],
      );
      return rows.map((row) => ({ user_name: String(row['user_name']), count: Number(row['total']) }));
    } catch (error) {
      if (isNoSuchTable(error)) throw noSuchVersion(query.version, 'user');
      throw error;
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
