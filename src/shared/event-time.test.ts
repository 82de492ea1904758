import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEventTime, parseEventTime } from './event-time.js';

describe('parseEventTime', () => {
  it('reads wall-clock times in the zone', () => {
    expect(parseEventTime('2026-11-22 20:31:07', 'Asia/Seoul')).toBe(Date.UTC(2026, 10, 22, 11, 31, 7));
    expect(parseEventTime('2026-11-22 20:31:07', 'UTC')).toBe(Date.UTC(2026, 10, 22, 20, 31, 7));
    expect(parseEventTime('2027-01-01 00:00:00', 'Asia/Seoul')).toBe(Date.UTC(2026, 11, 31, 15, 0, 0));
  });

  it('refuses what is not YYYY-MM-DD HH:mm:ss or not a date', () => {
    for (const text of [
      '2026-11-22T20:31:07',
      '2026-11-22 20:31',
      '2026-13-01 00:00:00',
      '2026-02-30 00:00:00',
      '2026-01-01 24:00:00',
      'soon',
    ]) {
      expect(parseEventTime(text, 'UTC'), text).toBeUndefined();
    }
  });

  it('round-trips with formatEventTime at whole seconds, in any zone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1) / 1_000, max: Date.UTC(2040, 0, 1) / 1_000 }),
        fc.constantFrom('Asia/Seoul', 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'),
        (seconds, zone) => {
          const instant = seconds * 1_000;
          const text = formatEventTime(instant, zone);
          const parsed = parseEventTime(text, zone);
          // In a repeated hour the earlier instant is chosen; otherwise the round trip is exact.
          expect(parsed !== undefined && formatEventTime(parsed, zone)).toBe(text);
          expect(parsed).toBeLessThanOrEqual(instant);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('is deterministic across daylight-saving changes', () => {
    // New York 2026-11-01 01:30 happens twice: the earlier (EDT, UTC-4) instant.
    expect(parseEventTime('2026-11-01 01:30:00', 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 5, 30, 0));
    // 2026-03-08 02:30 does not exist in New York: read with EST (UTC-5), i.e. 03:30 EDT.
    expect(parseEventTime('2026-03-08 02:30:00', 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 7, 30, 0));
  });
});
