/**
 * The bounds that keep one hostile event from poisoning a partition (SPEC §1.1, §3), pure:
 * decided from the record's own timestamp in the log and the settings, never from the wall clock,
 * so a replay decides exactly as the live run did.
 */

/** KAPPA_MAX_FUTURE's default: an event may be at most this far ahead of its record's timestamp. */
export const DEFAULT_MAX_FUTURE_MS = 3_600_000;

/** At most this many windows per event (window / slide): the work one event may cause. */
export const MAX_WINDOWS_PER_EVENT = 1_000;

/**
 * The DATETIME range MySQL 8 and MariaDB 10.11 both document, '1000-01-01 00:00:00' to
 * '9999-12-31 23:59:59.999' at the sinks' millisecond precision: a window starting before it or
 * ending after it is no valid DATETIME (the sink would retry it forever).
 */
export const MIN_DATETIME_MS = Date.UTC(1000, 0, 1);
export const MAX_DATETIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** ISO-8601, or the bare milliseconds beyond what a Date can hold (toISOString would throw). */
function iso(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : `${ms / 1_000}s`;
}

/**
 * Why an event time `eventMs` cannot be an event of a record stamped `recordTimestampMs` (the Kafka
 * record's timestamp), or undefined: more than `maxFutureMs` ahead of it is an event of the future.
 * A record without a timestamp (negative, or not a number) bounds nothing, so it is refused too.
 */
export function futureTimeProblem(eventMs: number, recordTimestampMs: number, maxFutureMs: number): string | undefined {
  if (!Number.isSafeInteger(recordTimestampMs) || recordTimestampMs < 0)
    return `the record has no timestamp (${recordTimestampMs}) to bound its event time by`;
  const ahead = eventMs - recordTimestampMs;
  if (ahead <= maxFutureMs) return undefined;
  return `time is ${seconds(ahead)} ahead of its record's timestamp ${iso(recordTimestampMs)}: at most ${seconds(maxFutureMs)} (KAPPA_MAX_FUTURE)`;
}

/** Why windows of `sizeMs` sliding by `slideMs` are too much work per event, or undefined. */
export function windowCountProblem(sizeMs: number, slideMs: number): string | undefined {
  const windows = Math.ceil(sizeMs / slideMs);
  if (windows <= MAX_WINDOWS_PER_EVENT) return undefined;
  return `window ${seconds(sizeMs)} with slide ${seconds(slideMs)} puts every event in ${windows} windows: at most ${MAX_WINDOWS_PER_EVENT} (make the slide at least ${seconds(Math.ceil(sizeMs / MAX_WINDOWS_PER_EVENT))})`;
}

/**
 * Why settings could never hold a window in the DATETIME range, or undefined: a window longer than
 * the whole range fits nowhere, so every event would be a bad record.
 */
export function windowSizeProblem(sizeMs: number): string | undefined {
  if (sizeMs <= MAX_DATETIME_MS + 1 - MIN_DATETIME_MS) return undefined;
  return `window ${seconds(sizeMs)} is longer than the DATETIME range (years 1000 to 9999) the tables store`;
}

/**
 * Why some window of an event at `timeMs` starts before 1000-01-01 or ends after 9999-12-31
 * 23:59:59.999 UTC (then it is a bad record: counted, dead-lettered), or undefined.
 */
export function windowRangeProblem(
  timeMs: number,
  window: { readonly sizeMs: number; readonly slideMs: number },
): string | undefined {
  const { sizeMs, slideMs } = window;
  const last = Math.floor(timeMs / slideMs) * slideMs;
  // The oldest start s with s > timeMs - sizeMs, i.e. s ≥ timeMs - sizeMs + 1 (whole ms).
  const first = last - Math.floor((last - timeMs + sizeMs - 1) / slideMs) * slideMs;
  if (last + sizeMs > MAX_DATETIME_MS)
    return `its window ending ${iso(last + sizeMs)} is after 9999-12-31 23:59:59.999 UTC, the last DATETIME`;
  if (first < MIN_DATETIME_MS)
    return `its window starting ${iso(first)} is before 1000-01-01 00:00:00 UTC, the first DATETIME`;
  return undefined;
}
