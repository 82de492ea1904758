/**
 * The pacing of `kappa ingest --rate R`: a token bucket filled on a clock tick. Every `tickMs`
 * the generator is owed `R × tickMs` more events, released in one chunk; what a slow iteration (a
 * send or fsync held up) leaves owed is released at the next turn, up to `burstMs` of rate — a
 * longer stall is not made up for. Released events never exceed R × t since the start, nor
 * R × (window + tickMs) + R × burstMs in any window.
 *
 * Why a tick: released "whatever is owed now" at every turn of the loop, a chunk held R × (one
 * chunk's fsync) events — ~45 at 15,000/s — and each chunk is fsynced and sent on its own, so
 * delivery fell behind the schedule by a fixed fraction (0.57 of R in the bench, at every rate).
 */
export const PACING = Object.freeze({ tickMs: 100, burstMs: 1_000 });

export type PacingSettings = typeof PACING;

/** Where a rate-limited generator stands. */
export interface PaceState {
  /** Events per second; 0: unlimited. */
  readonly rate: number;
  /** Events owed × 1,000 (event-milliseconds per second: exact integers for whole rates). */
  readonly credit: number;
  /** The tick (ms since the start) up to which `credit` is counted. */
  readonly creditedTo: number;
}

/** What the generator does at one instant: release `events` now, or (none due) wait `waitMs`. */
export interface Release {
  readonly events: number;
  readonly waitMs: number;
  readonly next: PaceState;
}

export function startPacing(rate: number): PaceState {
  return { rate, credit: 0, creditedTo: 0 };
}

/**
 * The generator's pacing `elapsedMs` after its start (a monotonic clock), releasing at most `cap`
 * events (the chunk size, the id block's rest, the count's rest).
 */
export function pace(state: PaceState, elapsedMs: number, cap: number, settings: PacingSettings = PACING): Release {
  const { rate } = state;
  if (rate === 0) return { events: cap, waitMs: 0, next: state };
  const { tickMs, burstMs } = settings;
  const creditedTo = Math.max(state.creditedTo, Math.floor(elapsedMs / tickMs) * tickMs);
  const owed = Math.min(rate * burstMs, state.credit + (creditedTo - state.creditedTo) * rate);
  const events = Math.max(0, Math.min(cap, Math.floor(owed / 1_000)));
  const next = { rate, credit: owed - events * 1_000, creditedTo };
  if (events > 0) return { events, waitMs: 0, next };
  // Nothing released: wait for the tick at which a whole event is owed.
  const ticks = Math.max(1, Math.ceil((1_000 - next.credit) / (rate * tickMs)));
  return { events: 0, waitMs: creditedTo + ticks * tickMs - elapsedMs, next };
}
