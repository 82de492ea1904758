/**
 * Wall-clock times `YYYY-MM-DD HH:mm:ss` as plain arithmetic on "wall milliseconds": the wall time
 * read as if it were UTC (what `Date.UTC` gives, proleptic Gregorian). No zone is involved here, so
 * whether a text is a valid event time never depends on the zone (event-time.ts maps wall
 * milliseconds to instants).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Years before 1000 are refused: `Date.UTC` reads 0000–0099 as 1900–1999, `Intl` writes years below
 * 1000 without their leading zeros, and the MySQL sinks store DATETIME, whose range starts at 1000.
 */
export const MIN_YEAR = 1000;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), year ≥ 1. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** The digit at `index` (0–9), or a negative number when it is not an ASCII digit. */
function digit(text: string, index: number): number {
  const value = text.charCodeAt(index) - 48;
  return value >= 0 && value <= 9 ? value : -1_000_000;
}

/**
 * The wall milliseconds of `YYYY-MM-DD HH:mm:ss`, or undefined unless it is exactly that with a
 * real date (no 2026-02-30, month 13, hour 24, second 60) and a year from 1000 to 9999.
 */
export function wallClockMillis(text: string): number | undefined {
  if (text.length !== 19) return undefined;
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 || // space
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58
  )
    return undefined;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  const hour = digit(text, 11) * 10 + digit(text, 12);
  const minute = digit(text, 14) * 10 + digit(text, 15);
  const second = digit(text, 17) * 10 + digit(text, 18);
  // A non-digit makes its field negative (-1e6 outweighs the other digits).
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1 || hour < 0 || minute < 0 || second < 0) return undefined;
  if (day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  return daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1_000;
}

/** `YYYY-MM-DD HH:mm:ss` of wall milliseconds whose year is 1000–9999 (H. Hinnant's civil_from_days). */
export function formatWallClock(wallMillis: number): string {
  const days = Math.floor(wallMillis / DAY_MS);
  const secondOfDay = Math.floor((wallMillis - days * DAY_MS) / 1_000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3_600);
  const minute = Math.floor((secondOfDay - hour * 3_600) / 60);
  const second = secondOfDay - hour * 3_600 - minute * 60;
  const century = Math.floor(year / 100);
  // One flat string from character codes: about twice as fast as a template literal, whose
  // concatenations V8 must flatten again when the string is encoded.
  return String.fromCharCode(
    tens(century),
    ones(century),
    tens(year - century * 100),
    ones(year - century * 100),
    45, // -
    tens(month),
    ones(month),
    45,
    tens(day),
    ones(day),
    32, // space
    tens(hour),
    ones(hour),
    58, // :
    tens(minute),
    ones(minute),
    58,
    tens(second),
    ones(second),
  );
}

/** The character code of the tens digit of 0–99. */
function tens(value: number): number {
  return 48 + Math.floor(value / 10);
}

/** The character code of the ones digit of 0–99. */
function ones(value: number): number {
  return 48 + (value % 10);
}
