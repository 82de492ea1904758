import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { countIncident } from '../shared/incidents.js';
import { KappaError, type ErrorCode } from '../shared/errors.js';
import { rollbackOrDestroy } from '../shared/mysql.js';
import { MANAGED_NAMES, planSwitch, SERVING_POINTER, type SwitchTarget } from './switch-plan.js';

/** MySQL's ER_NO_SUCH_TABLE: the pointer view does not exist, nothing serves. */
export function isNoSuchTable(error: unknown): boolean {
  return (error as { errno?: number } | null)?.errno === 1146;
}

/**
 * The version readers see: the one-row pointer view swapped with the views. A database whose
 * views were switched before the pointer existed falls back to the newest `kappa_serving` row.
 */
export async function servingVersion(pool: Pool | PoolConnection): Promise<string | undefined> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT version FROM \`${SERVING_POINTER}\``);
    return rows[0] === undefined ? undefined : String(rows[0]['version']);
  } catch (error) {
    if (!isNoSuchTable(error)) throw error;
  }
  const [rows] = await pool.query<RowDataPacket[]>('SELECT version FROM kappa_serving ORDER BY id DESC LIMIT 1');
  return rows[0] === undefined ? undefined : String(rows[0]['version']);
}

/** Serialises switches across processes (cutover, rollback, a first version claiming to serve). */
async function withSwitchLock<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    const [locked] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK('kappa_switch', 60) AS got");
    if (Number(locked[0]?.['got']) !== 1)
      throw new KappaError('KAPPA_CUTOVER_REFUSED', 'another cutover or rollback holds the switch lock; try again');
    try {
      return await work(connection);
    } finally {
      await connection.query("SELECT RELEASE_LOCK('kappa_switch')");
    }
  } finally {
    connection.release();
  }
}

export interface SwitchOptions {
  /** The code of a refusal: KAPPA_CUTOVER_REFUSED or KAPPA_ROLLBACK_REFUSED. */
  readonly refusal: ErrorCode;
  /** Only switch when this is still the serving version (undefined: when nothing serves). */
  readonly expectedCurrent?: string | undefined;
  /** Test seam: runs after the RENAME moved the pointer, before the history is written (a crash there). */
  readonly afterRename?: () => Promise<void>;
}

/**
 * Writes what the pointer says into the history, if a switch stopped between its two writes.
 * `RENAME TABLE` is DDL (it commits implicitly), so the pointer and `kappa_serving` cannot share a
 * transaction; instead the pointer is the truth and the history is repaired from it: when the
 * newest history row is not the pointer's version, the switch that moved the pointer is recorded
 * now (with the versions' states), so `rollback` walks the right history. Idempotent.
 */
async function reconcileHistory(connection: PoolConnection): Promise<string | undefined> {
  const pointer = await servingVersion(connection);
  if (pointer === undefined) return undefined;
  const [rows] = await connection.query<RowDataPacket[]>('SELECT version FROM kappa_serving ORDER BY id DESC LIMIT 1');
  const recorded = rows[0] === undefined ? undefined : String(rows[0]['version']);
  if (recorded !== pointer) await recordSwitch(connection, pointer, recorded);
  return pointer;
}

/** The history row of a switch to `to` from `from`, and both versions' states, in one transaction. */
async function recordSwitch(connection: PoolConnection, to: string, from: string | undefined): Promise<void> {
  await connection.beginTransaction();
  try {
    await connection.query('INSERT INTO kappa_serving (version, switched_at) VALUES (?, UTC_TIMESTAMP(3))', [to]);
    await connection.query("UPDATE kappa_versions SET state = 'serving' WHERE version = ?", [to]);
    if (from !== undefined && from !== to)
      await connection.query("UPDATE kappa_versions SET state = 'retired' WHERE version = ?", [from]);
    await connection.commit();
  } catch (error) {
    await rollbackOrDestroy(connection);
    throw error;
  }
}

/**
 * The serving history, newest first (what `rollback` walks), after repairing it from the pointer
 * under the switch lock (see reconcileHistory).
 */
export async function servingHistory(pool: Pool): Promise<string[]> {
  return withSwitchLock(pool, async (connection) => {
    await reconcileHistory(connection);
    const [rows] = await connection.query<RowDataPacket[]>('SELECT version FROM kappa_serving ORDER BY id DESC');
    return rows.map((row) => String(row['version']));
  });
}

/**
 * Switches readers to `to` in ONE `RENAME TABLE` (the views and the serving pointer together), then
 * records the switch in `kappa_serving` (the history rollback walks) and the versions' states — a
 * crash between the two is repaired by the next switch or history read (reconcileHistory).
 * Returns the version that served before, or refuses (nothing changed) when another switch moved
 * the serving version since the caller decided, or when `to` lacks a dimension whose view exists.
 */
export async function switchReaders(pool: Pool, to: SwitchTarget, options: SwitchOptions): Promise<string | undefined> {
  return withSwitchLock(pool, async (connection) => {
    const current = await reconcileHistory(connection);
    if (current !== options.expectedCurrent)
      throw new KappaError(
        options.refusal,
        `the serving version changed while deciding (now ${current ?? 'none'}); run the command again`,
      );
    const [found] = await connection.query<RowDataPacket[]>(
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${MANAGED_NAMES.map(() => '?').join(', ')})`,
      [...MANAGED_NAMES],
    );
    const decision = planSwitch(new Map(found.map((row) => [String(row['name']), String(row['type'])])), to);
    if (!decision.ok) throw new KappaError(options.refusal, decision.problem);
    const { plan } = decision;
    for (const name of plan.leftovers) await connection.query(`DROP VIEW IF EXISTS \`${name}\``);
    for (const statement of plan.create) await connection.query(statement);
    await connection.query(plan.rename);
    await options.afterRename?.();
    for (const name of plan.leftovers) await connection.query(`DROP VIEW IF EXISTS \`${name}\``);
    await recordSwitch(connection, to.version, current);
    return current;
  });
}

/**
 * SPEC §1.4: when no version serves yet, the first version that commits rows becomes the serving
 * one. True when some version serves afterwards (this one or another), so the caller stops asking.
 */
export async function serveIfNoneServes(pool: Pool, to: SwitchTarget): Promise<boolean> {
  if ((await servingVersion(pool)) !== undefined) return true;
  try {
    await switchReaders(pool, to, { refusal: 'KAPPA_CUTOVER_REFUSED', expectedCurrent: undefined });
  } catch (error) {
    // Another version got there first, or views this version cannot replace: either way it will not serve now.
    if (error instanceof KappaError) return true;
    throw error;
  }
  return true;
}

/**
 * The serving decision of SPEC §1.4 for a version aggregating into MySQL, as the aggregator's
 * `afterRowsCommitted` (aggregates/commit-observer.ts): after each commit with rows, until some
 * version serves, `serveIfNoneServes`. The aggregator only reports commits; who serves is decided
 * here. A failure is counted and tried again with the next commit's rows; one attempt at a time.
 * It opens its own connection per attempt: once some version serves, it never connects again.
 */
export function serveFirstToCommit(mysqlUrl: string, to: SwitchTarget): () => Promise<void> {
  let someoneServes = false;
  let attempt: Promise<void> | undefined;
  const tryToServe = async () => {
    const pool = createPool({ uri: mysqlUrl, timezone: 'Z', connectionLimit: 1 });
    try {
      someoneServes = await serveIfNoneServes(pool, to);
    } catch {
      countIncident('swallowed', 'serve-if-none-serves');
    } finally {
      await pool.end().catch(() => undefined);
    }
  };
  return () => {
    if (someoneServes) return Promise.resolve();
    attempt ??= tryToServe().finally(() => {
      attempt = undefined;
    });
    return attempt;
  };
}
