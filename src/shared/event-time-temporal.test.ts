/**
 * Event times checked against an independent implementation: Temporal (temporal-polyfill), whose
 * `ZonedDateTime` finds a zone's transitions and resolves wall times on its own — only the tz rules
 * (ICU's, through Intl) are shared. `disambiguation: 'compatible'` is SPEC §1.1's rule: a repeated
 * time is the earlier instant, a skipped one is read with the offset before the change.
 */
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { formatEventTime, parseEventTime } from './event-time.js';
import { formatWallClock, wallClockMillis } from './wall-clock.js';

/** DST of all kinds: US and EU rules, Lord Howe's 30-minute shift, Santiago's southern-hemisphere
 * dates that moved often, and Dublin, whose tz rules have winter as the "negative" daylight time. */
const ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Europe/Dublin'];

/** Every transition of `zone` from 2020 to 2030, as Temporal finds them. */
function temporalTransitions(zone: string): number[] {
  const found: number[] = [];
  let at: Temporal.ZonedDateTime | null = Temporal.Instant.fromEpochMilliseconds(
    Date.UTC(2020, 0, 1),
  ).toZonedDateTimeISO(zone);
  while (at !== null && at.epochMilliseconds < Date.UTC(2031, 0, 1)) {
    at = at.getTimeZoneTransition('next');
    if (at !== null) found.push(at.epochMilliseconds);
  }
  return found;
}

const TRANSITIONS = new Map(ZONES.map((zone) => [zone, temporalTransitions(zone)]));

function temporalFormat(epochMillis: number, zone: string): string {
  const local = Temporal.Instant.fromEpochMilliseconds(epochMillis).toZonedDateTimeISO(zone).toPlainDateTime();
  return `${local.toPlainDate().toString()} ${local.toPlainTime().toString({ smallestUnit: 'second' })}`;
}

function temporalParse(time: string, zone: string): number {
  return Temporal.PlainDateTime.from(time.replace(' ', 'T')).toZonedDateTime(zone, { disambiguation: 'compatible' })
    .epochMilliseconds;
}

/** A zone and an instant within two hours of one of its transitions, at a whole second. */
const nearTransition = fc
  .constantFrom(...ZONES)
  .chain((zone) =>
    fc.tuple(
      fc.constant(zone),
      fc.constantFrom(...(TRANSITIONS.get(zone) ?? [])),
      fc.integer({ min: -2 * 3_600, max: 2 * 3_600 }),
    ),
  )
  .map(([zone, transition, seconds]) => [zone, transition + seconds * 1_000] as const);

describe('event times agree with Temporal (temporal-polyfill) across DST transitions', () => {
  it('finds DST transitions in every zone', () => {
    for (const zone of ZONES) expect(TRANSITIONS.get(zone)?.length, zone).toBeGreaterThanOrEqual(18);
  });

  it('formats instants near transitions as Temporal does', () => {
    fc.assert(
      fc.property(nearTransition, fc.integer({ min: 0, max: 999 }), ([zone, instant], millis) => {
        expect(formatEventTime(instant + millis, zone)).toBe(temporalFormat(instant + millis, zone));
      }),
      { numRuns: 600 },
    );
  });

  it('parses wall times near transitions — skipped (gaps) and repeated (overlaps) included — as Temporal does', () => {
    // The wall time of an instant near a transition, shifted by up to ±90 min on the wall clock:
    // near a transition that lands in the gap (clocks forward) or the overlap (clocks back).
    const wallTimes = fc
      .tuple(nearTransition, fc.integer({ min: -5_400, max: 5_400 }))
      .map(([[zone, instant], shift]) => {
        const wall = (wallClockMillis(temporalFormat(instant, zone)) ?? 0) + shift * 1_000;
        return [zone, formatWallClock(wall)] as const;
      });
    fc.assert(
      fc.property(wallTimes, ([zone, time]) => {
        expect(parseEventTime(time, zone), `${time} ${zone}`).toBe(temporalParse(time, zone));
      }),
      { numRuns: 600 },
    );
  });

  it('reads a skipped and a repeated time as SPEC §1.1 says, in every zone', () => {
    for (const zone of ZONES)
      for (const transition of (TRANSITIONS.get(zone) ?? []).slice(0, 4)) {
        const before = Temporal.Instant.fromEpochMilliseconds(transition - 1).toZonedDateTimeISO(
          zone,
        ).offsetNanoseconds;
        const after = Temporal.Instant.fromEpochMilliseconds(transition).toZonedDateTimeISO(zone).offsetNanoseconds;
        // 1 s into the gap (wall times from the old offset's reading of the transition on) or the
        // overlap (wall times from the new offset's reading on): the lower of the two.
        const wall = formatWallClock(transition + Math.min(before, after) / 1e6 + 1_000);
        const expected =
          after > before
            ? transition + 1_000 // forward: read with the offset before, landing after the gap
            : transition - (before - after) / 1e6 + 1_000; // back: the earlier of the two instants
        expect(parseEventTime(wall, zone), `${zone} ${wall}`).toBe(expected);
        expect(temporalParse(wall, zone), `${zone} ${wall}`).toBe(expected);
      }
  });
});
