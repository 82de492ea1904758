import type { DecodeResult } from '../registry/avro-decoder.js';
import { parseEventTime } from '../shared/event-time.js';
import { futureTimeProblem, windowRangeProblem } from '../shared/time-bounds.js';
import type { EnrichedEvent } from '../model/enriched-event.js';
import {
  DIMENSION_SPECS,
  dimensionSpec,
  keyOf,
  keyProblem,
  type Dimension,
  type DimensionFields,
  type DimensionSpec,
} from '../model/dimensions.js';
import type { KeyedEvent } from './window-engine.js';
import type { WindowSettings } from '../model/window-settings.js';

/**
 * The aggregator's batch decisions, pure: where a fetched batch starts relative to the partition's
 * committed progress, which records it skips, and what a record is to the engine.
 */

export type BatchPlan =
  /** The fetch started beyond the progress (records would be skipped): fetch again from `offset`. */
  | { readonly kind: 'seek'; readonly offset: bigint }
  /** Process the records from index `from` on (those before it are below the progress). */
  | { readonly kind: 'process'; readonly from: number; readonly gap: boolean };

/**
 * @param next the partition's committed progress
 * @param offsets the batch's records (control and aborted records filtered out), ascending
 * @param fetchedFrom where the fetch started (control records included), when known
 * @param soughtTo where this partition was last sought to: a fetch that starts beyond it right after
 *   a seek is not sought again here but processed with `gap` (retention, which no seek can change,
 *   or a fetch made before the seek took effect: the driver asks Kafka's log start to tell them apart)
 */
export function planBatch(
  next: bigint,
  offsets: readonly bigint[],
  fetchedFrom: bigint | undefined,
  soughtTo: bigint | undefined,
): BatchPlan {
  const first = fetchedFrom ?? offsets[0];
  const gap = first !== undefined && first > next;
  if (gap && soughtTo !== next) return { kind: 'seek', offset: next };
  let from = 0;
  while (from < offsets.length && (offsets[from] as bigint) < next) from += 1;
  return { kind: 'process', from, gap };
}

/** What one record of the stages topic is to the aggregator. */
export type Classified =
  | { readonly kind: 'event'; readonly event: KeyedEvent }
  | { readonly kind: 'bad'; readonly reason: string; readonly detail: string };

/** What decides whether a stages record is an event: the version's settings and the record's timestamp. */
export interface ClassifyContext {
  readonly timeZone: string;
  readonly dims: readonly Dimension[];
  readonly window: Pick<WindowSettings, 'sizeMs' | 'slideMs'>;
  /** The record's timestamp in the log: the event time may be at most `maxFutureMs` ahead of it. */
  readonly timestampMs: number;
  readonly maxFutureMs: number;
}

/**
 * A decoded record → the engine's event, or a bad record (undecodable, a `time` that does not
 * parse, a time too far ahead of its record's timestamp, a window outside the DATETIME range, a key
 * longer than its column): bad records are counted and dead-lettered, never dropped. Decided from
 * the record alone, so a replay decides exactly as the live run did.
 */
/** The time as a dead letter's detail quotes it: only for bad records (it was ~1 µs of every event's replay). */
const quoted = (time: string): string => JSON.stringify(time);

/** What `classify` reads of a record: its time and its dimensions' fields. */
export type ClassifiedFields = Pick<EnrichedEvent, 'time'> & DimensionFields;

/** The fields `classify` reads with `dims`: all the aggregator decodes of a record (AvroDecoder's `read`). */
export function fieldsRead(dims: readonly Dimension[]): string[] {
  return ['time', ...dims.map((dim) => DIMENSION_SPECS[dim].field)];
}

/** What `classify` reads per dimension, looked up once per version rather than per record. */
interface KeyReader {
  readonly dim: Dimension;
  readonly field: DimensionSpec['field'];
  readonly maxLength: number | undefined;
}

/**
 * `classify` for one version's settings, the record's timestamp apart: the dimensions' specs are
 * looked up once, and the keys are read and checked in one pass (~1 µs a record is the whole replay).
 */
export function classifier(
  context: Omit<ClassifyContext, 'timestampMs'>,
): (decoded: DecodeResult<ClassifiedFields>, timestampMs: number) => Classified {
  const { timeZone, window, maxFutureMs } = context;
  const readers: readonly KeyReader[] = context.dims.map((dim) => {
    const { field, maxLength } = dimensionSpec(dim);
    return { dim, field, maxLength };
  });
  return (decoded, timestampMs) => {
    if (!decoded.ok) return { kind: 'bad', reason: decoded.reason, detail: decoded.detail };
    const { value } = decoded;
    const time = parseEventTime(value.time, timeZone);
    if (time === undefined)
      return {
        kind: 'bad',
        reason: 'invalid-time',
        detail: `time ${quoted(value.time)} is not YYYY-MM-DD HH:mm:ss in ${timeZone}`,
      };
    const future = futureTimeProblem(time, timestampMs, maxFutureMs);
    if (future !== undefined)
      return { kind: 'bad', reason: 'future-time', detail: `time ${quoted(value.time)} in ${timeZone}: ${future}` };
    const range = windowRangeProblem(time, window);
    if (range !== undefined)
      return {
        kind: 'bad',
        reason: 'window-out-of-range',
        detail: `time ${quoted(value.time)} in ${timeZone}: ${range}`,
      };
    const keys: Record<string, string> = {};
    for (const { dim, field, maxLength } of readers) {
      const key = keyOf(dim, value, field);
      if (maxLength !== undefined && key.length > maxLength) {
        const problem = keyProblem(dim, key);
        if (problem !== undefined) return { kind: 'bad', reason: 'key-too-long', detail: problem };
      }
      keys[dim] = key;
    }
    return { kind: 'event', event: { time, keys } };
  };
}

export function classify(decoded: DecodeResult<ClassifiedFields>, context: ClassifyContext): Classified {
  return classifier(context)(decoded, context.timestampMs);
}
