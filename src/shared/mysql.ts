import type { Pool, PoolConnection } from 'mysql2/promise';
import { countIncident } from './incidents.js';

/** What of a pooled connection a failed transaction needs (a seam for tests). */
export interface RollbackTarget {
  rollback(): Promise<void>;
  destroy(): void;
}

/** Told when a ROLLBACK failed and the connection was destroyed (a counter, a log line). */
let onRollbackFailure: ((error: unknown) => void) | undefined;

/** Where failed ROLLBACKs are reported (the process's metrics/logs); undefined: nowhere. */
export function reportRollbackFailures(report: ((error: unknown) => void) | undefined): void {
  onRollbackFailure = report;
}

/**
 * Rolls back, or — when the ROLLBACK itself fails (the connection broke, the server went away
 * mid-transaction) — destroys the connection, so the pool never hands out a connection that may
 * still hold an open transaction and its locks. Resolves either way; the caller rethrows its own error.
 */
export async function rollbackOrDestroy(connection: RollbackTarget): Promise<void> {
  try {
    await connection.rollback();
  } catch (error) {
    connection.destroy();
    countIncident('swallowed', 'mysql-rollback');
    onRollbackFailure?.(error);
  }
}

/** Runs `work` in one MySQL transaction on a pooled connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    await rollbackOrDestroy(connection);
    throw error;
  } finally {
    // A no-op for a destroyed connection (mysql2 removed it from the pool).
    connection.release();
  }
}
