import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offsetOf } from './offsets.js';

describe('offsetOf', () => {
  it('is BigInt(text) for every offset a broker can give, short or past 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (offset) => {
        expect(offsetOf(String(offset))).toBe(offset);
      }),
      { numRuns: 2_000 },
    );
    for (const text of ['0', '999999999999999', '1000000000000000', '9007199254740993', '9223372036854775807'])
      expect(offsetOf(text)).toBe(BigInt(text));
  });
});
