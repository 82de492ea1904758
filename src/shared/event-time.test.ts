import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEventTime, isEventTime, parseEventTime } from './event-time.js';
import {
  referenceFormatEventTime,
  referenceInstantOfWall,
  referenceParseEventTime,
  referenceZoneOffset,
} from './event-time-reference.js';
import { formatWallClock, wallClockMillis } from './wall-clock.js';
import { ZoneClock } from './zone-clock.js';

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

  it('refuses years before 1000 instead of reading 0000-0099 as 1900-1999 (the Date.UTC quirk)', () => {
    for (const text of ['0000-01-01 00:00:00', '0050-06-15 12:00:00', '0099-12-31 23:59:59', '0999-12-31 23:59:59']) {
      expect(parseEventTime(text, 'UTC'), text).toBeUndefined();
      expect(parseEventTime(text, 'Asia/Seoul'), text).toBeUndefined();
    }
    expect(parseEventTime('1000-01-01 00:00:00', 'UTC')).toBe(new Date('1000-01-01T00:00:00Z').getTime());
    expect(parseEventTime('9999-12-31 23:59:59', 'UTC')).toBe(new Date('9999-12-31T23:59:59Z').getTime());
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

const ZONES = ['Asia/Seoul', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'] as const;
type Zone = (typeof ZONES)[number] | 'UTC';

/** Every change of the zone's offset between two instants, to the second (scanned daily, then bisected). */
function transitions(zone: string, from: number, to: number): number[] {
  const found: number[] = [];
  let previous = referenceZoneOffset(from, zone);
  for (let day = from + 86_400_000; day <= to; day += 86_400_000) {
    const offset = referenceZoneOffset(day, zone);
    if (offset === previous) continue;
    let [low, high] = [day - 86_400_000, day]; // offset(low) = previous, offset(high) = offset
    while (high - low > 1_000) {
      const middle = low + Math.floor((high - low) / 2_000) * 1_000;
      if (referenceZoneOffset(middle, zone) === previous) low = middle;
      else high = middle;
    }
    found.push(high);
    previous = offset;
  }
  return found;
}

// Daylight saving in 2020-2030, and the zones' older changes: Seoul left local mean time (+08:27:52)
// in 1908, Kathmandu went from +05:30 to +05:45 in 1986, Lord Howe shifts by 30 minutes.
const TRANSITIONS = new Map<Zone, number[]>(
  [...ZONES, 'UTC' as const].map((zone) => [
    zone,
    [
      ...transitions(zone, Date.UTC(1900, 0, 1), Date.UTC(1990, 0, 1)),
      ...transitions(zone, Date.UTC(2020, 0, 1), Date.UTC(2031, 0, 1)),
    ],
  ]),
);

/** Fresh clocks, whose hours are all built by the tests below. */
const clocks = new Map<Zone, ZoneClock>();
const clockOf = (zone: Zone) =>
  clocks.get(zone) ?? clocks.set(zone, new ZoneClock(zone)).get(zone) ?? new ZoneClock(zone);

/** An instant anywhere from 1900 to 2100, or within three hours of one of the zone's transitions. */
function instants(zone: Zone): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: Date.UTC(1900, 0, 1) / 1_000, max: Date.UTC(2100, 0, 1) / 1_000 });
  const near = TRANSITIONS.get(zone) ?? [];
  if (near.length === 0) return anywhere.map((seconds) => seconds * 1_000);
  const around = fc
    .tuple(fc.constantFrom(...near), fc.integer({ min: -3 * 3_600, max: 3 * 3_600 }))
    .map(([transition, seconds]) => transition / 1_000 + seconds);
  return fc.oneof(anywhere, around).map((seconds) => seconds * 1_000);
}

const zoneAndInstant = fc
  .constantFrom<Zone>(...ZONES, 'UTC')
  .chain((zone) => fc.tuple(fc.constant(zone), instants(zone)));

// Random instants build a new hour almost every time: run counts sized for a unit test's 5 s.
describe('the fast event times agree with the reference (event-time-reference.ts)', () => {
  it('finds the transitions the tests aim at', () => {
    expect(TRANSITIONS.get('UTC')).toEqual([]);
    expect(TRANSITIONS.get('Asia/Seoul')?.length).toBeGreaterThanOrEqual(1);
    expect(TRANSITIONS.get('Asia/Kathmandu')).toContain(Date.UTC(1985, 11, 31, 18, 30, 0));
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'] as const)
      expect(TRANSITIONS.get(zone)?.length, zone).toBeGreaterThanOrEqual(22);
  });

  it('formats every instant as the reference does', () => {
    fc.assert(
      fc.property(zoneAndInstant, fc.integer({ min: 0, max: 999 }), ([zone, instant], millis) => {
        expect(clockOf(zone).format(instant + millis)).toBe(referenceFormatEventTime(instant + millis, zone));
      }),
      { numRuns: 1_500 },
    );
  });

  it('parses every wall time as the reference does: repeated hours, skipped hours (DST gaps) and all', () => {
    // A wall time near an instant: the instant's own, or shifted by up to ±2 h on the wall clock, which
    // near a transition lands in the gap (clocks forward) or the overlap (clocks back).
    const wallTimes = fc
      .tuple(zoneAndInstant, fc.integer({ min: -7_200, max: 7_200 }))
      .map(([[zone, instant], shift]) => {
        const wall = (wallClockMillis(referenceFormatEventTime(instant, zone)) ?? 0) + shift * 1_000;
        return [zone, formatWallClock(wall)] as const;
      });
    fc.assert(
      fc.property(wallTimes, ([zone, time]) => {
        const wall = wallClockMillis(time) ?? Number.NaN;
        expect(clockOf(zone).instantOf(wall)).toBe(referenceParseEventTime(time, zone));
      }),
      { numRuns: 1_500 },
    );
  });

  it('parses every second of the days with transitions as the reference does', () => {
    for (const zone of ['America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Asia/Seoul'] as const) {
      const clock = new ZoneClock(zone);
      for (const transition of (TRANSITIONS.get(zone) ?? []).slice(0, 3)) {
        const wallAt = wallClockMillis(referenceFormatEventTime(transition, zone)) ?? 0;
        for (let wall = wallAt - 2 * 3_600_000; wall < wallAt + 2 * 3_600_000; wall += 17_000)
          expect(clock.instantOf(wall), `${zone} ${formatWallClock(wall)}`).toBe(referenceInstantOfWall(wall, zone));
        for (let instant = transition - 3_600_000; instant < transition + 3_600_000; instant += 17_000)
          expect(clock.format(instant), `${zone} ${instant}`).toBe(referenceFormatEventTime(instant, zone));
      }
    }
  });

  it('gives the reference answers through parseEventTime and formatEventTime too', () => {
    // Runs of times within an hour, as a stage sees them, through the module's shared clocks.
    const runs = fc.tuple(
      zoneAndInstant,
      fc.array(fc.integer({ min: 0, max: 3_599_000 }), { minLength: 40, maxLength: 80 }),
    );
    fc.assert(
      fc.property(runs, ([[zone, start], offsets]) => {
        for (const offset of offsets) {
          const instant = start + offset;
          const time = formatEventTime(instant, zone);
          expect(time).toBe(referenceFormatEventTime(instant, zone));
          expect(parseEventTime(time, zone)).toBe(referenceParseEventTime(time, zone));
          expect(isEventTime(time)).toBe(true);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('formats instants outside years 1000-9999 as the reference does', () => {
    for (const instant of [
      Date.UTC(999, 11, 31, 20),
      Date.UTC(1000, 0, 1, 3),
      Date.UTC(9999, 11, 31, 20),
      Date.UTC(10_000, 0, 1, 3),
    ])
      for (const zone of ['Asia/Seoul', 'America/New_York', 'UTC'])
        expect(formatEventTime(instant, zone), `${instant} ${zone}`).toBe(referenceFormatEventTime(instant, zone));
    expect(() => formatEventTime(Number.NaN, 'UTC')).toThrow(RangeError);
  });
});
