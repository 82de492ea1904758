import { formatEventTime } from '../shared/event-time.js';

/** A record of the `events` topic, as written by schema v2 (`event_ts` is null only in v1 data). */
export interface EventRecord {
  readonly id: number;
  readonly hello: string;
  readonly time: string;
  readonly event_ts: number;
}

export interface GeneratorOptions {
  /** Merged into every record (Fluentd's dummy `dummy` parameter); may set `hello`. */
  readonly template: Readonly<Record<string, unknown>>;
  readonly timeZone: string;
  /** Fraction of events whose time is shifted back by `lateByMs` (0 … 1). */
  readonly lateFraction: number;
  readonly lateByMs: number;
  readonly seed: number;
  /** Every event at this time (epoch ms) instead of the clock's: a template's `time`, parsed once. */
  readonly fixedTime?: number;
}

/**
 * A 32-bit integer hash (the finaliser of MurmurHash3) of seed and id: lateness is a pure
 * function of (seed, id), so it is reproducible across runs, restarts and record order.
 */
function mix(seed: number, id: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id >>> 0, 0xc2b2ae35) ^ Math.floor(id / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether event `id` is one of the late ones for this seed and fraction. */
export function isLate(seed: number, id: number, fraction: number): boolean {
  return fraction > 0 && mix(seed, id) / 2 ** 32 < fraction;
}

/** The event with this id, generated at `nowMillis` (whole seconds: `time` has second resolution). */
export function makeEvent(id: number, nowMillis: number, options: GeneratorOptions): EventRecord {
  const at = options.fixedTime ?? nowMillis;
  const shifted = isLate(options.seed, id, options.lateFraction) ? at - options.lateByMs : at;
  const eventMillis = Math.floor(shifted / 1_000) * 1_000;
  const event: EventRecord = {
    hello: 'ssm-seoul',
    ...options.template,
    id,
    time: formatEventTime(eventMillis, options.timeZone),
    event_ts: eventMillis,
  };
  return event;
}
