/**
 * The reference implementation of event times (`YYYY-MM-DD HH:mm:ss` in an IANA zone, SPEC §1.1):
 * written for clarity, straight on `Intl.DateTimeFormat` (4–5 `formatToParts` per parse, ~20 µs).
 * `event-time.ts` is the fast implementation the stages use; its property tests compare it with
 * this one, which stays the definition of the results (DST gaps and overlaps included).
 */
import { MIN_YEAR } from './wall-clock.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

export function referenceFormatEventTime(epochMillis: number, zone: string): string {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(epochMillis))) parts[part.type] = part.value;
  return `${parts['year']}-${parts['month']}-${parts['day']} ${parts['hour']}:${parts['minute']}:${parts['second']}`;
}

const EVENT_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** The zone's offset from UTC at an instant, in milliseconds (Seoul: +9 h), to the second. */
export function referenceZoneOffset(epochMillis: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(epochMillis))) parts[part.type] = Number(part.value);
  const asUtc = Date.UTC(
    parts['year'] ?? 0,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  return asUtc - Math.floor(epochMillis / 1_000) * 1_000;
}

/**
 * Parses `YYYY-MM-DD HH:mm:ss` as a wall-clock time in `zone` into epoch milliseconds; undefined
 * when the text is not such a time, or its year is before 1000 (`Date.UTC` would read 0050 as 1950).
 */
export function referenceParseEventTime(text: string, zone: string): number | undefined {
  const match = EVENT_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < MIN_YEAR) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(wall).getUTCDate() !== day) return undefined; // 2026-02-30 and the like
  return referenceInstantOfWall(wall, zone);
}

/**
 * The instant at which the zone's clocks show `wall` (a wall time read as if it were UTC).
 * Deterministic across daylight-saving changes: a time that occurs twice (clocks going back) is the
 * earlier instant; a time that does not exist (clocks going forward) is read with the offset before
 * the change, landing after the gap.
 */
export function referenceInstantOfWall(wall: number, zone: string): number {
  // The instant is wall - offset(instant); try the offsets in force around it, earliest instant first.
  const candidates = [
    referenceZoneOffset(wall - 86_400_000, zone),
    referenceZoneOffset(wall, zone),
    referenceZoneOffset(wall + 86_400_000, zone),
  ]
    .map((offset) => wall - offset)
    .sort((a, b) => a - b);
  const exact = candidates.find((instant) => instant + referenceZoneOffset(instant, zone) === wall);
  return exact ?? wall - referenceZoneOffset(wall - 86_400_000, zone);
}
