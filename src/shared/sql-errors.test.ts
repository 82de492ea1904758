import { describe, expect, it } from 'vitest';
import { isMySqlError, permanentSqlError } from './sql-errors.js';

describe('permanentSqlError', () => {
  it('codes data errors KAPPA_SQL_REJECTED, not retriable, naming MySQL’s code', () => {
    const error = permanentSqlError(
      { code: 'ER_TRUNCATED_WRONG_VALUE', errno: 1292, sqlMessage: "Incorrect datetime value: '10000-01-01'" },
      'committing v1 partition 0',
    );
    expect(error).toMatchObject({ code: 'KAPPA_SQL_REJECTED', retriable: false });
    expect(error?.message).toContain('ER_TRUNCATED_WRONG_VALUE');
    expect(error?.message).toContain("Incorrect datetime value: '10000-01-01'");
    expect(error?.cause).toBeUndefined();
  });

  it('leaves what may pass to the retry: deadlocks, lock waits, lost connections, foreign errors', () => {
    for (const code of ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'ECONNREFUSED'])
      expect(permanentSqlError({ code }, 'x')).toBeUndefined();
    expect(permanentSqlError(new Error('boom'), 'x')).toBeUndefined();
    expect(permanentSqlError(undefined, 'x')).toBeUndefined();
  });
});

describe('isMySqlError', () => {
  it('tells a server answer or a failed connection of the driver from any other error', () => {
    const denied = Object.assign(new Error("Access denied for user 'nobody'"), {
      code: 'ER_ACCESS_DENIED_ERROR',
      sqlState: '28000',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
      fatal: true,
    });
    expect(isMySqlError(denied)).toBe(true);
    expect(isMySqlError(refused)).toBe(true);
    expect(isMySqlError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isMySqlError(new TypeError('x is undefined'))).toBe(false);
    expect(isMySqlError({ sqlState: '28000' })).toBe(false);
  });
});
