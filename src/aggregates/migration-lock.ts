import { createHash } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { MigrationsLockedError, type LockHolder } from '../shared/errors.js';

/** How long a start waits for another process's migrations before giving up (they take well under a second). */
export const MIGRATIONS_LOCK_WAIT_S = 60;

/**
 * The named lock that serialises migrations of one database. MySQL's named locks are server-wide,
 * so the name carries the database: two kappa databases on one server migrate independently (and
 * one held lock does not stall every other database's start). Names are at most 64 characters on
 * MySQL 8 and MariaDB: a long database name is replaced by its hash.
 */
export function migrationsLockName(database: string): string {
  const name = `kappa_migrations.${database}`;
  return name.length <= 64 ? name : `kappa_migrations.${createHash('sha1').update(database).digest('hex')}`;
}

/** Who holds `lock`: its connection id, and user and host when this account may see them (PROCESS privilege or same user). */
async function lockHolder(connection: Connection, lock: string): Promise<LockHolder | undefined> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS holder', [lock]);
  const id: unknown = rows[0]?.['holder'];
  if (id === null || id === undefined) return undefined;
  const connectionId = Number(id);
  const [processes] = await connection.query<RowDataPacket[]>(
    'SELECT USER AS user, HOST AS host FROM information_schema.PROCESSLIST WHERE ID = ?',
    [connectionId],
  );
  const process = processes[0];
  return {
    connectionId,
    ...(process === undefined ? {} : { user: String(process['user']), host: String(process['host']) }),
  };
}

/**
 * Takes the database's migrations lock, waiting up to `waitSeconds` for a holder to finish; when it
 * does not, fails with KAPPA_MIGRATIONS_LOCKED naming the holder — never runs migrations
 * alongside it. Returns the release.
 */
export async function takeMigrationsLock(
  connection: Connection,
  waitSeconds = MIGRATIONS_LOCK_WAIT_S,
): Promise<() => Promise<void>> {
  const [databases] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS name');
  const database = String(databases[0]?.['name'] ?? '');
  const lock = migrationsLockName(database);
  const [rows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS taken', [lock, waitSeconds]);
  // 1: taken; 0: another connection held it all along; NULL: an error (the wait was killed).
  if (Number(rows[0]?.['taken'] ?? 0) !== 1)
    throw new MigrationsLockedError(database, lock, waitSeconds, await lockHolder(connection, lock));
  return async () => {
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]);
  };
}
