import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { batchDecoderInstalled } from './kafkajs.js';
import type { BatchDecoderInput } from './batch-decoder.js';

const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const require = createRequire(import.meta.url);
type BatchDecoder = (decoder: BatchDecoderInput) => Promise<unknown>;
/**
 * kafkajs's batch decoder. The record decoder it binds is ours (through the module cache), as in a
 * fetch before this change: what differs is only how each record is reached.
 */
const theirs = kafkajsOriginal<BatchDecoder>(BATCH_DECODER);
/** What kafkajs's fetch binds: ours, through the module cache. */
const ours = require(BATCH_DECODER) as BatchDecoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => BatchDecoderInput;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: object) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => unknown;

/** What a decoder makes of `bytes`: the batch and how far it read, or the error it threw. */
async function outcome(decoder: BatchDecoder, bytes: Buffer): Promise<unknown> {
  const input = new Decoder(bytes);
  try {
    const batch = await decoder(input);
    return { batch, offset: input.offset };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array)),
  fc.constant(null),
);
const records = fc.array(
  fc.record({
    key: bytes,
    value: bytes,
    headers: fc.dictionary(
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 8 }).map((array) => Buffer.from(array)),
      { maxKeys: 3 },
    ),
    offsetDelta: fc.integer({ min: 0, max: 10_000 }),
    timestampDelta: fc.integer({ min: -100_000, max: 100_000 }),
  }),
  { maxLength: 8 },
);
const batches = fc.record({
  records,
  compression: fc.constantFrom(0, 0, 1),
  firstOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
  firstTimestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.constant(1_796_000_000_000)),
  transactional: fc.boolean(),
  producerId: fc.bigInt({ min: -1n, max: 2n ** 40n }),
  producerEpoch: fc.integer({ min: 0, max: 5 }),
  firstSequence: fc.integer({ min: 0, max: 1_000 }),
  partitionLeaderEpoch: fc.integer({ min: 0, max: 9 }),
});

type BatchInput = typeof batches extends fc.Arbitrary<infer T> ? T : never;

async function encoded(batch: BatchInput): Promise<Buffer> {
  const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown };
  return (
    await RecordBatch({
      ...batch,
      firstOffset: Long.fromValue(batch.firstOffset),
      producerId: Long.fromValue(batch.producerId),
      maxTimestamp: batch.firstTimestamp + 100_000,
      lastOffsetDelta: Math.max(0, batch.records.length - 1),
      records: batch.records.map((record) => Record(record)),
    })
  ).buffer;
}

describe('the record batch decoder', () => {
  it('is in kafkajs’s place in every fetch', () => {
    expect(batchDecoderInstalled()).toBe(true);
    expect(ours).not.toBe(theirs);
  });

  it("returns exactly kafkajs's batch for any batch, compressed or not", async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (batch) => {
        const buffer = await encoded(batch);
        expect(await outcome(ours, buffer)).toEqual(await outcome(theirs, buffer));
      }),
      { numRuns: 500 },
    );
  });

  it("returns kafkajs's batch, or throws its error, for any batch with bytes changed or cut", async () => {
    // Every byte of the records below 128: each varint read, aligned or not, is one byte, so a
    // changed length cannot make a header count of millions, on which kafkajs's decoder (and so
    // this one, reading the record again as kafkajs does) would spend minutes.
    const small = fc.uint8Array({ maxLength: 12 }).map((array) => Buffer.from(array.map((byte) => byte & 0x7f)));
    const shortRecords = fc.array(
      fc.record({
        key: fc.option(small),
        value: fc.option(small),
        headers: fc.dictionary(
          fc.string({ maxLength: 4 }).map((name) => [...name].filter((char) => char.charCodeAt(0) < 0x80).join('')),
          small,
          {
            maxKeys: 3,
          },
        ),
        offsetDelta: fc.integer({ min: 0, max: 63 }),
        timestampDelta: fc.integer({ min: -64, max: 63 }),
      }),
      { maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        batches,
        shortRecords,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 127 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat()),
        async (batch, records, changes, cut) => {
          const buffer = Buffer.from(await encoded({ ...batch, records, compression: 0 }));
          // Past the first offset, length and header (61 bytes): the records' bytes, where this decoder differs.
          for (const [at, value] of changes) buffer[61 + (at % Math.max(1, buffer.length - 61))] = value;
          const input = cut === null ? buffer : buffer.subarray(0, cut % (buffer.length + 1));
          expect(await outcome(ours, input)).toEqual(await outcome(theirs, input));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('reads the records of a batch in place: each record ends where its length says', async () => {
    const buffer = await encoded({
      records: [
        { key: null, value: Buffer.from('a'), headers: { h: Buffer.from('1') }, offsetDelta: 0, timestampDelta: 0 },
        { key: Buffer.from('k'), value: Buffer.from('bc'), headers: {}, offsetDelta: 1, timestampDelta: 5 },
      ],
      compression: 0,
      firstOffset: 41n,
      firstTimestamp: 1_796_000_000_000,
      transactional: false,
      producerId: -1n,
      producerEpoch: 0,
      firstSequence: 0,
      partitionLeaderEpoch: 0,
    });
    const result = (await outcome(ours, buffer)) as {
      batch: { records: { offset: string; timestamp: string; value: Buffer }[] };
      offset: number;
    };
    expect(result.offset).toBe(buffer.length);
    expect(result.batch.records.map((record) => [record.offset, record.timestamp, record.value.toString()])).toEqual([
      ['41', '1796000000000', 'a'],
      ['42', '1796000000005', 'bc'],
    ]);
  });
});
