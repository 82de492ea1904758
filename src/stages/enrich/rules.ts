import { DIMENSIONS, keyOf, keyProblem } from '../../model/dimensions.js';
import type { EnrichedEvent } from '../../model/enriched-event.js';
import type { DecodeResult } from '../../registry/avro-decoder.js';
import { isEventTime, parseEventTime } from '../../shared/event-time.js';
import { futureTimeProblem } from '../../shared/time-bounds.js';

/** A raw event as decoded from `events` (v1 records have no event_ts). */
export interface RawEvent {
  readonly id: number;
  readonly hello: string;
  readonly time: string;
  readonly event_ts?: number | null;
}

/** A static lookup table of the enrichment: key → name (static-tables.ts loads it from a file). */
export type StaticTable = ReadonlyMap<number, string>;

export interface EnrichmentTables {
  /** names.jsonl: uid → name. */
  readonly names: StaticTable;
  /** depts.jsonl: did → name. */
  readonly depts: StaticTable;
  readonly maleLabel: string;
  readonly femaleLabel: string;
}

export const UNKNOWN_NAME = 'Unknown Name';
export const UNKNOWN_DEPT = 'Unknown Dept';

/**
 * Why an event cannot be enriched — the `kappa.dlq.reason` of its dead letter, next to the decoder's
 * reasons (registry/avro-decoder.ts): `invalid` for an id that is not a non-negative integer,
 * `invalid-time` for a time the aggregator could not parse (then it would silently never count),
 * `future-time` for a time further ahead of its record's timestamp than KAPPA_MAX_FUTURE (one such
 * event would move its partition's watermark to the future and make every later event late).
 */
export type InvalidEventReason = 'invalid' | 'invalid-time' | 'future-time' | 'key-too-long';

export interface InvalidEvent {
  readonly reason: InvalidEventReason;
  readonly detail: string;
}

/** What bounds an event's time: its Kafka record's timestamp, never the wall clock (SPEC §1.1). */
export interface TimeBound {
  /** The record's timestamp in the log (ms since the epoch). */
  readonly timestampMs: number;
  /** The zone `time` is read in (KAPPA_TIME_ZONE). */
  readonly timeZone: string;
  /** KAPPA_MAX_FUTURE. */
  readonly maxFutureMs: number;
}

/**
 * Why an event cannot be enriched (it then goes to the dead-letter topic), or undefined. Without a
 * `bound` the time is only checked to parse.
 */
export function invalidReason(event: RawEvent, bound?: TimeBound): InvalidEvent | undefined {
  if (!Number.isSafeInteger(event.id) || event.id < 0)
    return { reason: 'invalid', detail: `id ${event.id} is not a non-negative integer` };
  if (!isEventTime(event.time))
    return {
      reason: 'invalid-time',
      detail: `time ${JSON.stringify(event.time)} is not YYYY-MM-DD HH:mm:ss with a real date and a year from 1000 to 9999`,
    };
  if (bound !== undefined) {
    const problem = futureTimeProblem(
      parseEventTime(event.time, bound.timeZone) ?? Number.NaN,
      bound.timestampMs,
      bound.maxFutureMs,
    );
    if (problem !== undefined)
      return { reason: 'future-time', detail: `time ${JSON.stringify(event.time)} in ${bound.timeZone}: ${problem}` };
  }
  return undefined;
}

/** The enrichment rules of the original exercise (SPEC §1.2), as one pure function. */
export function enrich(event: RawEvent, tables: EnrichmentTables): EnrichedEvent {
  const userId = event.id % 10;
  return {
    time: event.time,
    user_id: userId,
    user_name: tables.names.get(userId) ?? UNKNOWN_NAME,
    dept_name: tables.depts.get(event.id % 5) ?? UNKNOWN_DEPT,
    gender: event.id % 2 === 0 ? tables.maleLabel : tables.femaleLabel,
    age: (event.id % 100) + 1,
    hello: event.hello,
    id: event.id,
  };
}

/**
 * An enriched event whose key in some dimension does not fit that dimension's column (a name in
 * the names table longer than 191 characters, say): a bad record here, dead-lettered, rather than
 * a commit the aggregator could never make.
 */
export function keysProblem(event: EnrichedEvent): InvalidEvent | undefined {
  for (const dim of DIMENSIONS) {
    const detail = keyProblem(dim, keyOf(dim, event));
    if (detail !== undefined) return { reason: 'key-too-long', detail };
  }
  return undefined;
}

/** What the enrichment makes of one raw record: its stages event, or why it is a dead letter. */
export type EnrichmentOutcome =
  | { readonly kind: 'stages'; readonly value: EnrichedEvent }
  | { readonly kind: 'dead'; readonly reason: string; readonly detail: string };

/**
 * The enrichment stage's decision for one decoded raw record: decoding, the time checks bounded by
 * the record's timestamp, the rules, the key lengths. The stage (run.ts) and the full-chain plan
 * (recovery/full-chain-plan.ts) both decide through it, so a plan predicts what a replay writes.
 */
export function enrichRecord(
  decoded: DecodeResult<RawEvent>,
  bound: TimeBound,
  tables: EnrichmentTables,
): EnrichmentOutcome {
  if (!decoded.ok) return { kind: 'dead', reason: decoded.reason, detail: decoded.detail };
  const invalid = invalidReason(decoded.value, bound);
  if (invalid !== undefined) return { kind: 'dead', ...invalid };
  const value = enrich(decoded.value, tables);
  const problem = keysProblem(value);
  return problem === undefined ? { kind: 'stages', value } : { kind: 'dead', ...problem };
}
