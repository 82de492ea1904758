import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowsOf } from '../model/window-settings.js';
import {
  futureTimeProblem,
  MAX_DATETIME_MS,
  MAX_WINDOWS_PER_EVENT,
  MIN_DATETIME_MS,
  windowCountProblem,
  windowRangeProblem,
  windowSizeProblem,
} from './time-bounds.js';

const HOUR = 3_600_000;
const AT = Date.UTC(2026, 10, 22, 11, 0, 0);

describe('futureTimeProblem (SPEC §1.1)', () => {
  it('accepts up to max-future ahead of the record timestamp, refuses beyond', () => {
    expect(futureTimeProblem(AT + HOUR, AT, HOUR)).toBeUndefined();
    expect(futureTimeProblem(AT - 365 * 24 * HOUR, AT, HOUR)).toBeUndefined();
    expect(futureTimeProblem(AT + HOUR + 1, AT, HOUR)).toMatch(/3600\.001s ahead of its record's timestamp .* 3600s/);
    expect(futureTimeProblem(Date.UTC(9999, 11, 31, 23, 59, 59), AT, HOUR)).toMatch(/KAPPA_MAX_FUTURE/);
  });

  it('refuses a record without a timestamp', () => {
    expect(futureTimeProblem(AT, -1, HOUR)).toMatch(/no timestamp/);
    expect(futureTimeProblem(AT, Number.NaN, HOUR)).toMatch(/no timestamp/);
  });

  it('depends on the event time, the record timestamp and the bound only (a replay decides alike)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_DATETIME_MS, max: MAX_DATETIME_MS }),
        fc.integer({ min: 0, max: MAX_DATETIME_MS }),
        fc.integer({ min: 0, max: 10 * HOUR }),
        (event, timestamp, max) => {
          const verdict = futureTimeProblem(event, timestamp, max);
          expect(verdict === undefined).toBe(event - timestamp <= max);
          expect(futureTimeProblem(event, timestamp, max)).toBe(verdict);
        },
      ),
    );
  });
});

describe('windowCountProblem', () => {
  it(`allows ${MAX_WINDOWS_PER_EVENT} windows per event, names both values beyond`, () => {
    expect(windowCountProblem(10_000, 10)).toBeUndefined();
    expect(windowCountProblem(10_000, 10_000)).toBeUndefined();
    expect(windowCountProblem(86_400_000, 1)).toMatch(/window 86400s with slide 1ms .* 86400000 windows: at most 1000/);
    expect(windowCountProblem(10_001, 10)).toMatch(/1001 windows/);
  });

  it('agrees with the engine: at most the bound exactly when no event has more windows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: -1e9, max: 1e9 }),
        (a, b, t) => {
          const [slideMs, sizeMs] = a <= b ? [a, b] : [b, a];
          // Every phase of the slide: the count repeats with period slideMs.
          const counts = Array.from(
            { length: slideMs },
            (_, phase) => windowsOf(t + phase, { sizeMs, slideMs, delayMs: 0 }).length,
          );
          expect(Math.max(...counts)).toBe(Math.ceil(sizeMs / slideMs));
        },
      ),
    );
  });
});

describe('windowRangeProblem', () => {
  const tumbling = { sizeMs: 10_000, slideMs: 10_000 };

  it('refuses an event whose window would end after 9999-12-31 23:59:59.999 UTC', () => {
    expect(windowRangeProblem(Date.UTC(9999, 11, 31, 23, 59, 49), tumbling)).toBeUndefined();
    expect(windowRangeProblem(Date.UTC(9999, 11, 31, 23, 59, 50), tumbling)).toMatch(/after 9999-12-31/);
    // A 10 h window near the top of the range, as in the west of UTC.
    expect(windowRangeProblem(Date.UTC(9999, 11, 31, 15), { sizeMs: 10 * HOUR, slideMs: HOUR })).toMatch(/\+010000/);
  });

  it('refuses an event whose window would start before 1000-01-01 UTC', () => {
    expect(windowRangeProblem(MIN_DATETIME_MS, tumbling)).toBeUndefined();
    expect(windowRangeProblem(MIN_DATETIME_MS + 5_000, { sizeMs: 10_000, slideMs: 1_000 })).toMatch(
      /before 1000-01-01/,
    );
  });

  it('is undefined exactly when every window of the engine fits the DATETIME range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.oneof(
          fc.integer({ min: MAX_DATETIME_MS - 100_000, max: MAX_DATETIME_MS }),
          fc.integer({ min: MIN_DATETIME_MS, max: MIN_DATETIME_MS + 100_000 }),
        ),
        (windows, slideMs, time) => {
          const settings = { sizeMs: windows * slideMs, slideMs, delayMs: 0 };
          const starts = windowsOf(time, settings);
          const fits = starts.every((start) => start >= MIN_DATETIME_MS && start + settings.sizeMs <= MAX_DATETIME_MS);
          expect(windowRangeProblem(time, settings) === undefined).toBe(fits);
        },
      ),
    );
  });
});

describe('windowSizeProblem', () => {
  it('refuses only a window longer than the DATETIME range', () => {
    expect(windowSizeProblem(365 * 24 * HOUR)).toBeUndefined();
    expect(windowSizeProblem(MAX_DATETIME_MS - MIN_DATETIME_MS + 2)).toMatch(/longer than the DATETIME range/);
  });
});
