import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['15s', 15_000],
    ['1m', 60_000],
    ['60 minutes', 3_600_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['2 hours', 7_200_000],
    ['1d', 86_400_000],
    [' 30s ', 30_000],
    ['10 SECONDS', 10_000],
  ])('reads %j as %i ms', (text, millis) => {
    expect(parseDuration(text)).toBe(millis);
  });

  it.each(['15', '', ' ', 'abc', '-5s', 's', '5 lightyears', '1m30s', '1e3s', 'NaNs'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('reads back whatever formatDuration writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 86_400_000 }), (millis) => {
        expect(parseDuration(formatDuration(millis))).toBe(millis);
      }),
    );
  });

  it('formats with the largest exact unit', () => {
    expect(formatDuration(15_000)).toBe('15s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0ms');
  });
});
