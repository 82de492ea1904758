import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { offsetAtLeast } from './fetched-batch.js';
import { fetchedBatchInstalled } from './kafkajs.js';

const BATCH = 'kafkajs/src/consumer/batch.js';
const require = createRequire(import.meta.url);
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: object) => Record<string, unknown>;
/** kafkajs's Batch; the read_committed filter it binds is ours (through the module cache), as in a fetch. */
const Theirs = kafkajsOriginal<BatchClass>(BATCH);
/** What kafkajs's consumer binds: ours, through the module cache. */
const Ours = require(BATCH) as BatchClass;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): { gte(other: unknown): boolean } };
const longAtLeast = (offset: unknown, from: unknown) => Long.fromValue(offset).gte(Long.fromValue(from));
const failing = () => {
  throw new Error('not a plain offset');
};

/** Offsets as kafkajs's decoders write them: the text of any int64, many of them close together. */
const int64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2_000n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, 9n, 10n, 99n, 100n, -1n, 2n ** 53n, 2n ** 63n - 1n),
);

describe('offsetAtLeast', () => {
  it("is kafkajs's Long comparison for any two offsets", () => {
    fc.assert(
      fc.property(int64, int64, (offset, from) => {
        const expected = longAtLeast(String(offset), String(from));
        if (from >= 0n) expect(offsetAtLeast(String(offset), String(from), longAtLeast)).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });

  it('compares plain texts without kafkajs, and leaves anything else to it', () => {
    expect(offsetAtLeast('10', '9', failing)).toBe(true);
    expect(offsetAtLeast('9', '10', failing)).toBe(false);
    expect(offsetAtLeast('0', '0', failing)).toBe(true);
    expect(offsetAtLeast('123456789012345678', '123456789012345679', failing)).toBe(false);
    expect(() => offsetAtLeast('-1', '0', failing)).toThrow('not a plain offset');
    expect(offsetAtLeast('-1', '0', longAtLeast)).toBe(false);
    expect(offsetAtLeast(Long.fromValue(5), '4', longAtLeast)).toBe(true);
  });
});

const fetchedOffsets = fc.oneof(
  int64.map(String),
  int64.map((value) => Long.fromValue(value)),
  fc.integer({ min: 0, max: 100 }),
  fc.constantFrom('007', '-1', '1e3'),
);
const partitionData = fc
  .record({
    partition: fc.nat(9),
    highWatermark: fc.nat().map(String),
    base: fc.bigInt({ min: 0n, max: 2n ** 62n }),
    records: fc.array(
      fc.record({
        delta: fc.integer({ min: -3, max: 20 }),
        isControlRecord: fc.boolean(),
        inTransaction: fc.boolean(),
        producerId: fc.constantFrom('1', '2'),
        abortMarker: fc.boolean(),
      }),
      { maxLength: 20 },
    ),
    aborted: fc.array(fc.record({ producerId: fc.constantFrom('1', '2'), at: fc.nat(20) }), { maxLength: 3 }),
  })
  .map(({ partition, highWatermark, base, records, aborted }) => ({
    partition,
    highWatermark,
    abortedTransactions: aborted.map(({ producerId, at }) => ({ producerId, firstOffset: String(base + BigInt(at)) })),
    messages: records.map(({ delta, isControlRecord, inTransaction, producerId, abortMarker }) => ({
      offset: String(base + BigInt(delta)),
      key: isControlRecord ? Buffer.from([0, 0, 0, abortMarker ? 0 : 1]) : null,
      isControlRecord,
      batchContext: { producerId, inTransaction },
    })),
  }));

describe("the consumer's Batch", () => {
  it('is in kafkajs’s place in every fetch', () => {
    expect(fetchedBatchInstalled()).toBe(true);
    expect(Ours).not.toBe(Theirs);
  });

  it("keeps exactly kafkajs's records, and every other field and method, for any fetch", () => {
    fc.assert(
      fc.property(fetchedOffsets, partitionData, fc.boolean(), (fetched, data, nearBase) => {
        // Half the time the fetched offset falls among the records, where the filter keeps some.
        const fetchedOffset = nearBase && data.messages[0] !== undefined ? data.messages[0].offset : fetched;
        const made = (Batch: BatchClass) => {
          try {
            return new Batch('t', fetchedOffset, data);
          } catch (error) {
            return String(error);
          }
        };
        const ours = made(Ours);
        const theirs = made(Theirs);
        if (typeof theirs === 'string' || typeof ours === 'string') {
          // An offset kafkajs cannot read ('1e3') throws the same error from both.
          expect(ours).toEqual(theirs);
          return;
        }
        expect({ ...ours }).toEqual({ ...theirs });
        expect(ours).toBeInstanceOf(Object.getPrototypeOf(Ours) as BatchClass);
        for (const method of [
          'isEmpty',
          'isEmptyIncludingFiltered',
          'isEmptyDueToFiltering',
          'firstOffset',
          'lastOffset',
        ])
          expect((ours[method] as () => unknown)()).toEqual((theirs[method] as () => unknown)());
      }),
      { numRuns: 3_000 },
    );
  });
});
