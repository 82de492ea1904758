/**
 * Event times as the raw log carries them: `YYYY-MM-DD HH:mm:ss` in a configured IANA zone
 * (SPEC §1.1), e.g. `2026-11-22 20:31:07` in Asia/Seoul. These run once per event in every stage,
 * so they are the fast implementation (zone-clock.ts, ~0.1 µs); event-time-reference.ts defines
 * the results and the property tests hold the two equal.
 */
import { wallClockMillis } from './wall-clock.js';
import { ZoneClock } from './zone-clock.js';

const clocks = new Map<string, ZoneClock>();
let last: ZoneClock | undefined;

function clockFor(zone: string): ZoneClock {
  if (last?.zone === zone) return last;
  let clock = clocks.get(zone);
  if (clock === undefined) {
    clock = new ZoneClock(zone);
    clocks.set(zone, clock);
  }
  last = clock;
  return clock;
}

/**
 * Whether `text` is an event time: exactly `YYYY-MM-DD HH:mm:ss`, a real date, years 1000–9999.
 * Every such text parses in every zone (see parseEventTime), so this is the aggregator's own check,
 * for the stages that must refuse what the aggregator could not count.
 */
export function isEventTime(text: string): boolean {
  return wallClockMillis(text) !== undefined;
}

/**
 * Parses `YYYY-MM-DD HH:mm:ss` as a wall-clock time in `zone` into epoch milliseconds; undefined
 * unless isEventTime(text). Deterministic across daylight-saving changes: a time that occurs twice
 * (clocks going back) is the earlier instant; a time that does not exist (clocks going forward) is
 * read with the offset before the change, landing after the gap.
 */
export function parseEventTime(text: string, zone: string): number | undefined {
  // Records come in bursts of the same second (a partition at 1,000 events/s repeats each text
  // ~300 times in a row): the last answer is kept. A pure function of (text, zone), so it is exact.
  if (text === lastText && zone === lastZone) return lastInstant;
  const wall = wallClockMillis(text);
  const instant = wall === undefined ? undefined : clockFor(zone).instantOf(wall);
  lastText = text;
  lastZone = zone;
  lastInstant = instant;
  return instant;
}

let lastText = '';
let lastZone = '';
let lastInstant: number | undefined;

/** `YYYY-MM-DD HH:mm:ss` of the second containing `epochMillis`, in `zone`. */
export function formatEventTime(epochMillis: number, zone: string): string {
  return clockFor(zone).format(epochMillis);
}
