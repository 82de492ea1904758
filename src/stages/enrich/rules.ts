import { isEventTime } from '../../shared/event-time.js';
import type { StaticTable } from './static-tables.js';

/** A raw event as decoded from `events` (v1 records have no event_ts). */
export interface RawEvent {
  readonly id: number;
  readonly hello: string;
  readonly time: string;
  readonly event_ts?: number | null;
}

/** A record of `events_stages` (schemas/events_stages/v1.avsc). */
export interface EnrichedEvent {
  readonly time: string;
  readonly user_id: number;
  readonly user_name: string;
  readonly dept_name: string;
  readonly gender: string;
  readonly age: number;
  readonly hello: string;
  readonly id: number;
}

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
 * `invalid-time` for a time the aggregator could not parse (then it would silently never count).
 */
export type InvalidEventReason = 'invalid' | 'invalid-time';

export interface InvalidEvent {
  readonly reason: InvalidEventReason;
  readonly detail: string;
}

/** Why an event cannot be enriched (it then goes to the dead-letter topic), or undefined. */
export function invalidReason(event: RawEvent): InvalidEvent | undefined {
  if (!Number.isSafeInteger(event.id) || event.id < 0)
    return { reason: 'invalid', detail: `id ${event.id} is not a non-negative integer` };
  if (!isEventTime(event.time))
    return {
      reason: 'invalid-time',
      detail: `time ${JSON.stringify(event.time)} is not YYYY-MM-DD HH:mm:ss with a real date and a year from 1000 to 9999`,
    };
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
