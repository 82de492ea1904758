import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BufferedRecord } from './disk-buffer.js';
import { partitionBatches } from './partition-batches.js';

const record = (id: number, partitions: number): BufferedRecord => ({
  id,
  partition: id % partitions,
  value: Buffer.from(`v${id}`),
});

describe('partitionBatches', () => {
  it('splits a chunk into one batch per partition, ids ascending', () => {
    const batches = partitionBatches([0, 1, 2, 3, 4, 5, 6].map((id) => record(id, 3)));
    expect(batches.map((batch) => batch.map((each) => each.id))).toEqual([
      [0, 3, 6],
      [1, 4],
      [2, 5],
    ]);
    expect(partitionBatches([])).toEqual([]);
  });

  it('keeps every record exactly once, each batch holding a single partition', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.nat(300),
        fc.integer({ min: 1, max: 12 }),
        (first, size, n) => {
          const records = Array.from({ length: size }, (_, index) => record(first + index, n));
          const batches = partitionBatches(records);
          for (const batch of batches) expect(new Set(batch.map((each) => each.partition)).size).toBe(1);
          expect(new Set(batches.map((batch) => batch[0]?.partition)).size).toBe(batches.length);
          expect(
            batches
              .flat()
              .map((each) => each.id)
              .sort((a, b) => a - b),
          ).toEqual(records.map((each) => each.id));
        },
      ),
    );
  });
});
