import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOfUtc } from './queries.js';

describe('isoOfUtc', () => {
  it('turns a DATETIME(3) read as text into the ISO-8601 instant Date would give', () => {
    expect(isoOfUtc('2026-11-24 09:00:10.000')).toBe('2026-11-24T09:00:10.000Z');
    expect(isoOfUtc('2026-11-24 09:00:10')).toBe('2026-11-24T09:00:10.000Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(isoOfUtc(iso.replace('T', ' ').replace('Z', ''))).toBe(iso);
      }),
    );
  });
});
