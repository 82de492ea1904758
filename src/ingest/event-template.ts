import { parseAvro } from '../registry/avro-schema.js';
import { parseEventTime } from '../shared/event-time.js';
import { DEFAULT_MAX_FUTURE_MS, futureTimeProblem } from '../shared/time-bounds.js';
import { makeEvent } from './event-generator.js';

/** Fields the generator owns; a template may not set them. */
const GENERATED_FIELDS = new Set(['id', 'event_ts']);

export type TemplateCheck =
  { readonly ok: true; readonly fixedTime: number | undefined } | { readonly ok: false; readonly problem: string };

/**
 * Checks `kappa ingest --template` against the events schema the generator writes (its latest
 * version, as JSON text). A `time` is read with the aggregator's parser in `timeZone` and becomes
 * the time of every event (`fixedTime`): a time the aggregator could not count is refused here,
 * not discovered as a dead letter later; so is a time more than `maxFutureMs` ahead of `now` (every
 * record is produced at `now` or later, and enrichment refuses a time that far ahead of its record's
 * timestamp: KAPPA_MAX_FUTURE).
 */
export function checkTemplate(
  template: Readonly<Record<string, unknown>>,
  eventsSchema: string,
  timeZone: string,
  bound: { readonly now: number; readonly maxFutureMs: number } = {
    now: Date.now(),
    maxFutureMs: DEFAULT_MAX_FUTURE_MS,
  },
): TemplateCheck {
  const fields = (JSON.parse(eventsSchema) as { fields: { name: string }[] }).fields.map((field) => field.name);
  const settable = fields.filter((field) => !GENERATED_FIELDS.has(field));
  const unknown = Object.keys(template).filter((key) => !settable.includes(key));
  if (unknown.length > 0)
    return {
      ok: false,
      problem: `invalid --template: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not fields' : 'is not a field'} the template may set (allowed: ${settable.join(', ')})`,
    };
  const time = template['time'];
  const fixedTime = typeof time === 'string' ? parseEventTime(time, timeZone) : undefined;
  if (time !== undefined && fixedTime === undefined)
    return {
      ok: false,
      problem: `invalid --template: time ${JSON.stringify(time)} is not a valid event time (YYYY-MM-DD HH:mm:ss, a real date, years 1000-9999, in ${timeZone})`,
    };
  const future = fixedTime === undefined ? undefined : futureTimeProblem(fixedTime, bound.now, bound.maxFutureMs);
  if (future !== undefined)
    return { ok: false, problem: `invalid --template: time ${JSON.stringify(time)} in ${timeZone}: ${future}` };
  const sample = makeEvent(0, Date.now(), { template, timeZone, lateFraction: 0, lateByMs: 0, seed: 0 });
  if (!parseAvro(eventsSchema).isValid(sample))
    return {
      ok: false,
      problem: 'invalid --template: its values do not fit the events schema (e.g. hello must be a string)',
    };
  return { ok: true, fixedTime };
}
