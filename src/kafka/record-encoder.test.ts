import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { recordEncoderInstalled } from './kafkajs.js';
import { encodeRecord, type RecordEncoder, type RecordInput } from './record-encoder.js';

const original = kafkajsOriginal<RecordEncoder>('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const ours = (input: RecordInput) => encodeRecord(input, original);
const bytes = (encoded: { buffer: Buffer }) => [...encoded.buffer];

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 300 }));
const binary = fc.uint8Array({ maxLength: 400 }).map((array) => Buffer.from(array));
const keyOrValue = fc.oneof(text, binary, fc.constant(null), fc.constant(undefined));
const headerValue = fc.oneof(text, binary);
const headers = fc.dictionary(
  fc.oneof(fc.string(), fc.string({ unit: 'grapheme' })),
  fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })),
  { maxKeys: 4 },
);
const records = fc.record(
  {
    offsetDelta: fc.oneof(fc.nat({ max: 10_000 }), fc.integer()),
    timestampDelta: fc.oneof(
      fc.integer({ min: -10_000, max: 10_000 }),
      fc.maxSafeInteger(),
      fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
    ),
    key: keyOrValue,
    value: keyOrValue,
    headers,
  },
  { requiredKeys: [] },
);

describe('encodeRecord', () => {
  it('is in kafkajs’s place in every produce request', () => {
    expect(recordEncoderInstalled()).toBe(true);
  });

  it("writes exactly kafkajs's bytes for any record", () => {
    fc.assert(
      fc.property(records, (record) => {
        expect(bytes(ours(record))).toEqual(bytes(original(record)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("writes kafkajs's bytes for what the generator and enrichment send", () => {
    const record = {
      offsetDelta: 1_999,
      timestampDelta: 0,
      key: '123456',
      value: Buffer.alloc(90, 7),
      headers: { 'kappa.writer': 'generator', 'kappa.writer-id': 'writer-b2fb56cb74e8' },
    };
    const encoded = ours(record);
    expect(encoded.buffer).toEqual(original(record).buffer);
    expect(encoded.size()).toBe(encoded.buffer.length);
    expect(Buffer.isBuffer(encoded.buf)).toBe(true);
  });

  it('leaves to kafkajs what it does not cover, and answers what kafkajs answers', () => {
    let delegated = 0;
    const counting: RecordEncoder = (input) => {
      delegated += 1;
      return original(input);
    };
    const odd: RecordInput[] = [
      { timestampDelta: Number.NaN, key: 'k', value: 'v' },
      { timestampDelta: 2 ** 60, key: 'k', value: 'v' },
      { timestampDelta: '12', key: 'k', value: 'v' },
      { offsetDelta: 1.5, key: 'k', value: 'v' },
      { offsetDelta: 2 ** 40, key: 'k', value: 'v' },
      { key: 42, value: 'v' },
    ];
    for (const input of odd) {
      const mine = (() => {
        try {
          return bytes(encodeRecord(input, counting));
        } catch (error) {
          return String(error);
        }
      })();
      const theirs = (() => {
        try {
          return bytes(original(input));
        } catch (error) {
          return String(error);
        }
      })();
      expect(mine).toEqual(theirs);
    }
    expect(delegated).toBe(odd.length);
    // kafkajs cannot size a null header value (Buffer.byteLength(null) throws); neither do we, the same way.
    expect(() => encodeRecord({ key: 'k', value: 'v', headers: { h: null } }, counting)).toThrow(TypeError);
  });
});
