import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextSliceSize, SEND_SLICE, shouldCommit, type TransactionPolicy } from './transaction-policy.js';

/** Drives the policy over a batch the way run.ts does; returns the records of each transaction. */
function transactionsOf(policy: TransactionPolicy, batchSize: number, msPerRecord: number): number[] {
  const committed: number[] = [];
  let now = 0;
  let open: { records: number; openedAt: number } | undefined;
  for (let done = 0; done < batchSize;) {
    const size = Math.min(nextSliceSize(policy, open), batchSize - done);
    open = { records: (open?.records ?? 0) + size, openedAt: open?.openedAt ?? now };
    done += size;
    now += size * msPerRecord;
    if (shouldCommit(policy, open, now, done === batchSize)) {
      committed.push(open.records);
      open = undefined;
    }
  }
  expect(open, 'a batch never leaves a transaction open').toBeUndefined();
  return committed;
}

describe('enrichment transaction policy', () => {
  it('commits every record of a batch exactly once, never above maxRecords, never a slice above SEND_SLICE', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 20, max: 60_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (batchSize, maxRecords, maxMs, msPerRecord) => {
          const transactions = transactionsOf({ maxRecords, maxMs }, batchSize, msPerRecord);
          expect(transactions.reduce((sum, records) => sum + records, 0)).toBe(batchSize);
          for (const records of transactions) expect(records).toBeLessThanOrEqual(maxRecords);
          expect(nextSliceSize({ maxRecords, maxMs }, undefined)).toBeLessThanOrEqual(SEND_SLICE);
        },
      ),
    );
  });

  it('sizes transactions by time while catching up, and commits a small live batch at once', () => {
    // 50 µs per record: 200 ms of work is 4,000 records.
    expect(transactionsOf({ maxRecords: 50_000, maxMs: 200 }, 40_000, 0.05)).toEqual(Array(10).fill(4_000));
    expect(transactionsOf({ maxRecords: 50_000, maxMs: 200 }, 3, 0.05)).toEqual([3]);
    // A record cap below the time budget wins.
    expect(transactionsOf({ maxRecords: 1_000, maxMs: 60_000 }, 2_500, 0.05)).toEqual([1_000, 1_000, 500]);
  });
});
