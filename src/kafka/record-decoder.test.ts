import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { recordDecoderInstalled } from './kafkajs.js';
import type { BatchContext, RecordDecoder, RecordDecoderInput } from './record-decoder.js';
import type { RecordEncoder } from './record-encoder.js';

const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const require = createRequire(import.meta.url);
const theirs = kafkajsOriginal<RecordDecoder>(RECORD_DECODER);
/** What kafkajs's batch decoder binds: ours, through the module cache. */
const ours = require(RECORD_DECODER) as RecordDecoder;
const encode = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as RecordEncoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => RecordDecoderInput;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown };

/** A record's bytes as the record decoder gets them: kafkajs's batch decoder reads the length before. */
function bodyOf(record: Buffer): Buffer {
  const body = new Decoder(record).readVarIntBytes();
  if (body === null) throw new Error('a record has a length');
  return body;
}

/** Decodes `bytes` with `decoder`: the record, and how far it read. */
function decoded(decoder: RecordDecoder, bytes: Buffer, context: BatchContext) {
  const input = new Decoder(bytes);
  const record = decoder(input, context);
  return { record, offset: input.offset };
}

/** Ours, without the one field kafkajs's record lacks (`timestampMs`), and that field. */
function withoutTimestampMs(result: { record: unknown; offset: number }) {
  const { timestampMs, ...record } = result.record as { timestampMs?: number };
  return { result: { record, offset: result.offset }, timestampMs };
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 60 }).map((array) => Buffer.from(array)),
  fc.constant(null),
);
/** Header names as they come: repeated ones, ones Object.prototype has, `__proto__`. */
const headerName = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('a', 'a', 'b', '__proto__', 'constructor', '1'),
);
const records = fc.record({
  key: bytes,
  value: bytes,
  headers: fc.array(
    fc.tuple(
      headerName,
      fc.uint8Array({ maxLength: 12 }).map((array) => Buffer.from(array)),
    ),
    {
      maxLength: 5,
    },
  ),
  offsetDelta: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  timestampDelta: fc.oneof(
    fc.integer({ min: -100_000, max: 100_000 }),
    fc.integer({ min: -(2 ** 48), max: 2 ** 48 }),
    fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
    // Beyond 7 varint bytes (left to kafkajs), up to what a double holds of an int64.
    fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map(Number),
  ),
});
/** Texts as kafkajs's batch decoder gives them (short and long), Longs, and what it never gives. */
const base = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }).map(String),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.constantFrom('9007199254740991', '9007199254740990', '-1'),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => Long.fromValue(value)),
  // Safe as a number, but a delta takes the sum beyond 2^53: added as BigInts.
  fc.bigInt({ min: 2n ** 53n - 2n ** 32n, max: 2n ** 53n - 1n }).map((value) => Long.fromValue(value)),
);
const contexts = fc.record(
  {
    firstOffset: base,
    firstTimestamp: base,
    magicByte: fc.constant(2),
    isControlBatch: fc.boolean(),
    timestampType: fc.constantFrom(0, 1),
    maxTimestamp: fc.oneof(base, fc.constant('')),
  },
  { requiredKeys: ['firstOffset', 'firstTimestamp'] },
);

/** kafkajs's headers input: an array value for a repeated name. */
function headersOf(pairs: readonly [string, Buffer][]): Record<string, Buffer | Buffer[]> {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [name, value] of pairs) {
    const old = Object.hasOwn(headers, name) ? headers[name] : undefined;
    const next = old === undefined ? value : Array.isArray(old) ? [...old, value] : [old, value];
    Object.defineProperty(headers, name, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return headers;
}

describe('decodeRecord', () => {
  it('is in kafkajs’s place in every fetch', () => {
    expect(recordDecoderInstalled()).toBe(true);
    expect(ours).not.toBe(theirs);
  });

  it("returns exactly kafkajs's record for any record and batch, plus its timestamp as a number", () => {
    fc.assert(
      fc.property(records, contexts, (record, context) => {
        const buffer = bodyOf(encode({ ...record, headers: headersOf(record.headers) }).buffer);
        const { result: mine, timestampMs } = withoutTimestampMs(decoded(ours, buffer, context));
        const kafkajs = decoded(theirs, buffer, context);
        // What the aggregator reads as the record's timestamp: Number(timestamp), without parsing it.
        const text = (kafkajs.record as { timestamp: unknown }).timestamp;
        if (timestampMs !== undefined) expect(timestampMs).toBe(Number(text));
        // toEqual, not toStrictEqual: that one takes a header named `constructor` for the object's class.
        expect(mine).toEqual(kafkajs);
        expect(Object.keys(mine.record)).toEqual(Object.keys(kafkajs.record as object));
        const headers = (mine.record as { headers: object }).headers;
        const expected = (kafkajs.record as { headers: object }).headers;
        expect(Object.getOwnPropertyNames(headers)).toEqual(Object.getOwnPropertyNames(expected));
        expect(Object.getPrototypeOf(headers)).toBe(Object.getPrototypeOf(expected));
      }),
      { numRuns: 3_000 },
    );
  });

  it('decodes what the generator writes: two headers, a text timestamp and offset', () => {
    const buffer = bodyOf(
      encode({
        key: '42',
        value: Buffer.alloc(90, 1),
        headers: { 'kappa.writer': 'kappa ingest', 'kappa.writer-id': 'writer-000000000000' },
        offsetDelta: 1_999,
        timestampDelta: 3,
      }).buffer,
    );
    const context = { firstOffset: '1234567', firstTimestamp: '1796000000000', magicByte: 2, timestampType: 0 };
    const record = decoded(ours, buffer, context).record as {
      offset: string;
      timestamp: string;
      timestampMs: number;
      headers: object;
    };
    expect(record.offset).toBe('1236566');
    expect(record.timestamp).toBe('1796000000003');
    expect(record.timestampMs).toBe(1_796_000_000_003);
    expect(Object.keys(record.headers)).toEqual(['kappa.writer', 'kappa.writer-id']);
    expect(withoutTimestampMs(decoded(ours, buffer, context)).result).toStrictEqual(decoded(theirs, buffer, context));
  });
});
