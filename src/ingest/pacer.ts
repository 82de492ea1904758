import { eventsDue } from './event-generator.js';

/** Where a rate-limited generator stands: what it has released so far. */
export interface PaceState {
  readonly rate: number;
  readonly released: number;
}

/** What the generator does at one instant: release `events` now, or (none due) wait `waitMs`. */
export interface Release {
  readonly events: number;
  readonly waitMs: number;
  readonly next: PaceState;
}

/** Events per second; 0: unlimited. */
export function startPacing(rate: number): PaceState {
  return { rate, released: 0 };
}

/**
 * The generator's pacing `elapsedMs` after its start, releasing at most `cap` events (the chunk
 * size, the id block's rest, the count's rest). The loop of `kappa ingest` as it is: whatever is
 * owed at this instant, else a sleep of 1/rate (5 … 100 ms).
 */
export function pace(state: PaceState, elapsedMs: number, cap: number): Release {
  const events = eventsDue(elapsedMs, state.rate, state.released, cap);
  const waitMs = events === 0 ? Math.max(5, Math.min(100, 1_000 / state.rate)) : 0;
  return { events, waitMs, next: { ...state, released: state.released + events } };
}
