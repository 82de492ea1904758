import { createConnection, type Connection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { migrationsLockName } from '../src/aggregates/migration-lock.js';
import { migrate } from '../src/aggregates/migrations.js';
import { MigrationsLockedError } from '../src/shared/errors.js';
import { useTestContext } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const context = useTestContext('migrations');

const sql = <T>(query: string, values: unknown[] = []) => sqlRows<T>(context.mysqlUrl, query, values);

/** The tables kappa keeps for itself (each version's result tables aside). */
const KAPPA_TABLES = [
  'kappa_id_blocks',
  'kappa_id_sequence',
  'kappa_ingest_requests',
  'kappa_migrations',
  'kappa_progress',
  'kappa_replay_plans',
  'kappa_serving',
  'kappa_versions',
  'kappa_window_digests',
];

async function tables(): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME',
  );
  return rows.map((row) => row.name);
}

async function applied(): Promise<number[]> {
  const rows = await sql<{ id: number }>('SELECT id FROM kappa_migrations ORDER BY id');
  return rows.map((row) => row.id);
}

async function withConnection<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await createConnection({ uri: context.mysqlUrl });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/** Another process mid-migration: a connection holding the database's migrations lock until `release`. */
async function holdLock(): Promise<{ connectionId: number; release: () => Promise<void> }> {
  const connection = await createConnection({ uri: context.mysqlUrl });
  const [rows] = await connection.query('SELECT GET_LOCK(?, 0) AS taken, CONNECTION_ID() AS id', [
    migrationsLockName(context.database),
  ]);
  const [row] = rows as { taken: number; id: number }[];
  expect(row?.taken).toBe(1);
  return { connectionId: Number(row?.id), release: () => connection.end() };
}

describe('migrations against MariaDB', () => {
  it('fail with KAPPA_MIGRATIONS_LOCKED naming the holder, and migrate nothing, while another holds the lock', async () => {
    const holder = await holdLock();
    try {
      const failure = await withConnection((connection) => migrate(connection, { lockWaitSeconds: 1 })).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(MigrationsLockedError);
      const error = failure as MigrationsLockedError;
      expect(error.code).toBe('KAPPA_MIGRATIONS_LOCKED');
      expect(error.holder?.connectionId).toBe(holder.connectionId);
      expect(error.holder?.user).toBe('root');
      expect(error.message).toContain(`MySQL connection ${holder.connectionId} (root@`);
      expect(await applied()).toEqual([]);
      expect(await tables()).toEqual(['kappa_migrations']);
    } finally {
      await holder.release();
    }
  });

  it('wait for the holder to finish, then apply every migration; two at once apply each migration once', async () => {
    const holder = await holdLock();
    let settled = false;
    const waiting = withConnection((connection) => migrate(connection, { lockWaitSeconds: 60 })).finally(() => {
      settled = true;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Still waiting: the lock is held, so nothing can have run.
      expect(settled).toBe(false);
      expect(await applied()).toEqual([]);
    } finally {
      await holder.release();
    }
    const count = await waiting;
    const all = await applied();
    expect(count).toBe(all.length);
    expect(await tables()).toEqual(KAPPA_TABLES);

    // Two migrators at once (a database one migration behind): one applies it, the other finds it done.
    await sql('DELETE FROM kappa_migrations WHERE id = 5');
    await sql("INSERT INTO kappa_id_blocks VALUES ('cluster/events', 'w1', 0, 1000, FALSE)");
    const counts = await Promise.all([
      withConnection((connection) => migrate(connection)),
      withConnection((connection) => migrate(connection)),
    ]);
    expect(counts.sort()).toEqual([0, 1]);
    // kappa_id_blocks made before it was a migration (by IdSequence.open) keeps its rows.
    expect(await sql('SELECT writer_id, end_id FROM kappa_id_blocks')).toEqual([{ writer_id: 'w1', end_id: 1000 }]);
    expect(await applied()).toEqual(all);
  });
});
