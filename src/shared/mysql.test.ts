import { describe, expect, it } from 'vitest';
import { reportRollbackFailures, rollbackOrDestroy, type RollbackTarget } from './mysql.js';

function connection(rollback: () => Promise<void>): RollbackTarget & { destroyed: number } {
  const target = {
    destroyed: 0,
    rollback,
    destroy: () => {
      target.destroyed += 1;
    },
  };
  return target;
}

describe('rollbackOrDestroy', () => {
  it('keeps a connection whose ROLLBACK succeeded', async () => {
    const ok = connection(() => Promise.resolve());
    await rollbackOrDestroy(ok);
    expect(ok.destroyed).toBe(0);
  });

  it('destroys a connection whose ROLLBACK failed, and reports it', async () => {
    const reported: unknown[] = [];
    reportRollbackFailures((error) => reported.push(error));
    const broken = new Error('Connection lost: The server closed the connection.');
    const failed = connection(() => Promise.reject(broken));
    try {
      await rollbackOrDestroy(failed);
    } finally {
      reportRollbackFailures(undefined);
    }
    expect(failed.destroyed).toBe(1);
    expect(reported).toEqual([broken]);
  });
});
