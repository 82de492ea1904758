import { KappaError } from './errors.js';

/**
 * MySQL/MariaDB errors about the statement or its data, which the same commit will meet again
 * however often it is retried: a stage must stop with them, not retry forever (a stalled partition).
 * Everything else — deadlocks (ER_LOCK_DEADLOCK), lock waits (ER_LOCK_WAIT_TIMEOUT), lost or
 * refused connections, a server shutting down, too many connections — may pass and is retried.
 */
export const PERMANENT_SQL_ERRORS: ReadonlySet<string> = new Set([
  'ER_TRUNCATED_WRONG_VALUE', // 1292: an invalid DATETIME (a window ending after 9999-12-31)
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', // 1366
  'ER_DATA_TOO_LONG', // 1406
  'ER_WARN_DATA_OUT_OF_RANGE', // 1264
  'ER_DATETIME_FUNCTION_OVERFLOW', // 1441
  'ER_WRONG_VALUE', // 1525
  'ER_BAD_NULL_ERROR', // 1048
  'ER_DIVISION_BY_ZERO', // 1365
  'ER_NO_SUCH_TABLE', // 1146: a version's table dropped under a running aggregator
  'ER_BAD_FIELD_ERROR', // 1054
  'ER_PARSE_ERROR', // 1064
  'ER_NO_DEFAULT_FOR_FIELD', // 1364
  'ER_DUP_FIELDNAME', // 1060
  'ER_TABLEACCESS_DENIED_ERROR', // 1142
  'ER_DBACCESS_DENIED_ERROR', // 1044
]);

interface SqlError {
  readonly code?: unknown;
  readonly sqlMessage?: unknown;
}

/** A non-retriable KAPPA_SQL_REJECTED for a permanent MySQL error (its code in the message), else undefined. */
export function permanentSqlError(error: unknown, what: string): KappaError | undefined {
  const { code, sqlMessage } = (typeof error === 'object' && error !== null ? error : {}) as SqlError;
  if (typeof code !== 'string' || !PERMANENT_SQL_ERRORS.has(code)) return undefined;
  // No `cause`: kafkajs decides whether to restart a consumer from the innermost cause's `retriable`.
  return new KappaError(
    'KAPPA_SQL_REJECTED',
    `${what}: MySQL refused it with ${code} (${typeof sqlMessage === 'string' ? sqlMessage : 'no message'}); retrying cannot fix this`,
  );
}

/**
 * An error from the MySQL driver (mysql2): a server answer (it carries `sqlState`) or a connection
 * that failed (`fatal` with a code). What the command line tells apart from a bug in kappa.
 */
export function isMySqlError(error: unknown): error is Error & { readonly code?: string } {
  if (!(error instanceof Error)) return false;
  const fields = error as { sqlState?: unknown; fatal?: unknown; code?: unknown };
  return typeof fields.sqlState === 'string' || (fields.fatal === true && typeof fields.code === 'string');
}
