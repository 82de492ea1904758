import fc from 'fast-check';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { CompressionTypes, produceRequestInstalled } from './kafkajs.js';
import { timestampBounds, type ProduceRequest, type ProduceRequestInput } from './produce-request.js';

const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
type Request = (input: ProduceRequestInput) => ProduceRequest;
/** kafkajs's file as shipped (its record encoder is ours: record-encoder.test.ts proves the bytes equal). */
const theirs = kafkajsOriginal<Request>(PRODUCE_V3);
/** What kafkajs's produce requests of every version load: ours, through the module cache. */
const ours = createRequire(import.meta.url)(PRODUCE_V3) as Request;
const encoded = async (request: Request, input: ProduceRequestInput) => [...(await request(input).encode()).buffer];

const NOW = 1_796_000_000_000;
afterEach(() => vi.restoreAllMocks());

const bytes = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 120 }).map((array) => Buffer.from(array)),
  fc.constant(null),
);
/** Timestamps of every kind kafkajs takes: texts and numbers of any length, missing, mixed in one batch. */
const timestamp = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: NOW - 100_000, max: NOW + 100_000 }),
  fc.integer({ min: NOW - 100_000, max: NOW + 100_000 }).map(String),
  fc.nat({ max: 99_999 }),
  fc.nat({ max: 99_999 }).map(String),
);
const message = fc.record(
  {
    key: bytes,
    value: bytes,
    headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    timestamp,
    partition: fc.nat({ max: 5 }),
  },
  { requiredKeys: ['value'] },
);
const request = (compression: number) =>
  fc.record({
    acks: fc.constantFrom(-1, 0, 1),
    timeout: fc.nat({ max: 60_000 }),
    transactionalId: fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ minLength: 1, maxLength: 20 })),
    producerEpoch: fc.oneof(fc.constant(undefined), fc.nat({ max: 20 })),
    compression: fc.constant(compression),
    topicData: fc.array(
      fc.record({
        topic: fc.string({ minLength: 1, maxLength: 20 }),
        partitions: fc.array(
          fc.record({
            partition: fc.nat({ max: 20 }),
            firstSequence: fc.nat({ max: 100_000 }),
            messages: fc.array(message, { minLength: 1, maxLength: 12 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  });

describe('the Produce request', () => {
  it('is in kafkajs’s place for every produce request version', () => {
    expect(produceRequestInstalled()).toBe(true);
    expect(ours).not.toBe(theirs);
  });

  it.each([
    { name: 'uncompressed', compression: CompressionTypes.None, numRuns: 1_000 },
    { name: 'compressed with gzip', compression: CompressionTypes.GZIP, numRuns: 100 },
  ])("writes exactly kafkajs's bytes for any request, $name", async ({ compression, numRuns }) => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    await fc.assert(
      fc.asyncProperty(request(compression), async (input) => {
        expect(await encoded(ours, input)).toEqual(await encoded(theirs, input));
      }),
      { numRuns },
    );
  });

  it('answers whether a response is expected as kafkajs does', () => {
    for (const acks of [-1, 0, 1])
      expect(ours({ acks, timeout: 1, topicData: [] }).expectResponse()).toBe(
        theirs({ acks, timeout: 1, topicData: [] }).expectResponse(),
      );
  });
});

describe('timestampBounds', () => {
  it('finds what a stable sort() puts first and last', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ timestamp }), { maxLength: 30 }), (messages) => {
        const sorted = messages
          .map((entry) => entry.timestamp)
          .filter((value) => value !== null && value !== undefined);
        sorted.sort();
        const { first, last } = timestampBounds(messages, NOW);
        expect([first, last]).toEqual(sorted.length === 0 ? [NOW, NOW] : [sorted[0], sorted.at(-1)]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('tells 9 from 10 by text, as sort() does', () => {
    expect(timestampBounds([{ timestamp: 10 }, { timestamp: 9 }, { timestamp: '10' }], NOW)).toEqual({
      first: 10,
      last: 9,
    });
  });
});
