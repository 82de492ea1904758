import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceParseEventTime } from './event-time-reference.js';
import { DAY_MS, daysFromCivil, formatWallClock, wallClockMillis } from './wall-clock.js';

const pad = (value: number, width: number) => String(value).padStart(width, '0');
const text = (y: number, mo: number, d: number, h: number, mi: number, s: number) =>
  `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;

/** Texts shaped like event times with any digits: most are invalid in one field or another. */
const nearlyTimes = fc
  .tuple(
    fc.integer({ min: 0, max: 9_999 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
  )
  .map((fields) => text(...fields));
const validFields = fc.tuple(
  fc.integer({ min: 1_000, max: 9_999 }),
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 1, max: 31 }),
  fc.integer({ min: 0, max: 23 }),
  fc.integer({ min: 0, max: 59 }),
  fc.integer({ min: 0, max: 59 }),
);

describe('wallClockMillis', () => {
  it('is Date.UTC of the fields for every real date of years 1000-9999', () => {
    fc.assert(
      fc.property(validFields, ([y, mo, d, h, mi, s]) => {
        const utc = Date.UTC(y, mo - 1, d, h, mi, s);
        const real = new Date(utc).getUTCDate() === d;
        expect(wallClockMillis(text(y, mo, d, h, mi, s))).toBe(real ? utc : undefined);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses exactly what the reference parser refuses', () => {
    const mutated = fc
      .tuple(nearlyTimes, fc.nat(18), fc.constantFrom('a', ' ', '-', ':', '/', '٣', '0', ''))
      .map(([time, at, char]) => time.slice(0, at) + char + time.slice(at + 1));
    fc.assert(
      fc.property(fc.oneof(nearlyTimes, mutated, fc.string({ maxLength: 25 })), (time) => {
        expect(wallClockMillis(time) === undefined).toBe(referenceParseEventTime(time, 'UTC') === undefined);
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['2026-02-30 10:00:00', 'February 30'],
    ['2025-02-29 10:00:00', 'not a leap year'],
    ['2100-02-29 10:00:00', 'centuries are not leap years'],
    ['2026-13-01 10:00:00', 'month 13'],
    ['2026-00-01 10:00:00', 'month 0'],
    ['2026-01-00 10:00:00', 'day 0'],
    ['2026-04-31 10:00:00', 'April 31'],
    ['2026-01-01 24:00:00', 'hour 24'],
    ['2026-01-01 10:60:00', 'minute 60'],
    ['2026-01-01 10:00:60', 'second 60'],
    ['0050-01-01 10:00:00', 'year 0050 (Date.UTC would read 1950)'],
    ['0999-12-31 23:59:59', 'year 999'],
    ['2026-01-01T10:00:00', 'ISO T'],
    ['2026-01-01 10:00:00Z', 'a zone suffix'],
    ['2026-01-01 10:00', 'no seconds'],
    ['+2026-01-01 10:00:0', 'a sign'],
    ['2026-01-01 1a:00:00', 'a letter'],
    ['２026-01-01 10:00:00', 'a full-width digit'],
  ])('refuses %s (%s)', (time) => {
    expect(wallClockMillis(time)).toBeUndefined();
  });

  it('accepts leap days, the first and the last second of the range', () => {
    expect(wallClockMillis('2024-02-29 00:00:00')).toBe(Date.UTC(2024, 1, 29));
    expect(wallClockMillis('2000-02-29 00:00:00')).toBe(Date.UTC(2000, 1, 29));
    expect(wallClockMillis('1000-01-01 00:00:00')).toBe(Date.UTC(1000, 0, 1));
    expect(wallClockMillis('9999-12-31 23:59:59')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
  });
});

describe('daysFromCivil and formatWallClock', () => {
  it('count days like Date.UTC', () => {
    fc.assert(
      fc.property(validFields, ([y, mo, d]) => {
        const utc = Date.UTC(y, mo - 1, d);
        if (new Date(utc).getUTCDate() === d) expect(daysFromCivil(y, mo, d) * DAY_MS).toBe(utc);
      }),
      { numRuns: 5_000 },
    );
  });

  it('write what toISOString writes, truncated to the second, and round-trip with wallClockMillis', () => {
    const first = Date.UTC(1000, 0, 1);
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(fc.integer({ min: first, max: last }), (wall) => {
        const written = formatWallClock(wall);
        expect(written).toBe(new Date(wall).toISOString().slice(0, 19).replace('T', ' '));
        expect(wallClockMillis(written)).toBe(Math.floor(wall / 1_000) * 1_000);
      }),
      { numRuns: 10_000 },
    );
    expect(formatWallClock(first)).toBe('1000-01-01 00:00:00');
    expect(formatWallClock(last)).toBe('9999-12-31 23:59:59');
  });
});
