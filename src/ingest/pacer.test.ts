import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_MAX as CAP } from './disk-buffer.js';
import { pace, startPacing } from './pacer.js';

/** What the pacer promises: releases on a 100 ms tick, and at most 1 s of rate owed after a stall. */
const TICK_MS = 100;
const BURST_MS = 1_000;

interface Loop {
  readonly rate: number;
  readonly durationMs: number;
  /** What one release costs the loop: encoding, the chunk's write and fsync (the bench saw ~2–4 ms). */
  readonly fixedCostMs: number;
  readonly perEventMs: number;
  /** How late a timer fires. */
  readonly lateMs: number;
  /** Slow iterations: the first release at or after `atMs` takes `ms` longer (a send or fsync held up). */
  readonly stalls: readonly { readonly atMs: number; readonly ms: number }[];
}

interface Released {
  readonly atMs: number;
  readonly events: number;
}

/** `kappa ingest`'s generator loop on a simulated clock. */
function simulate(loop: Loop): Released[] {
  const stalls = [...loop.stalls].sort((a, b) => a.atMs - b.atMs);
  let state = startPacing(loop.rate);
  let now = 0;
  const released: Released[] = [];
  while (now < loop.durationMs) {
    const release = pace(state, now, CAP);
    state = release.next;
    if (release.events === 0) {
      if (!(release.waitMs > 0)) throw new Error(`nothing released and no wait at ${now} ms`);
      now += release.waitMs + loop.lateMs;
      continue;
    }
    released.push({ atMs: now, events: release.events });
    now += loop.fixedCostMs + release.events * loop.perEventMs;
    while (stalls[0] !== undefined && now >= stalls[0].atMs) now += stalls.shift()?.ms ?? 0;
  }
  return released;
}

const total = (released: readonly Released[]) => released.reduce((sum, { events }) => sum + events, 0);

/** The most events any window [a, b] of release instants holds beyond rate × (b − a). */
function worstWindowExcess(released: readonly Released[], rate: number): number {
  const before: number[] = [0];
  for (const { events } of released) before.push((before.at(-1) ?? 0) + events);
  // excess(i … j) = before[j + 1] − before[i] − rate·(t_j − t_i); the best j for each i from the right.
  let best = Number.NEGATIVE_INFINITY;
  let bestEnd = Number.NEGATIVE_INFINITY;
  for (let i = released.length - 1; i >= 0; i -= 1) {
    const at = released[i]?.atMs ?? 0;
    bestEnd = Math.max(bestEnd, (before[i + 1] ?? 0) - (rate * at) / 1_000);
    best = Math.max(best, bestEnd - (before[i] ?? 0) + (rate * at) / 1_000);
  }
  return best;
}

const loops = (stalls: fc.Arbitrary<Loop['stalls']>) =>
  fc.record({
    rate: fc.integer({ min: 1, max: 30_000 }),
    durationMs: fc.integer({ min: 3_000, max: 6_000 }),
    fixedCostMs: fc.double({ min: 1, max: 5, noNaN: true }),
    perEventMs: fc.double({ min: 0, max: 0.01, noNaN: true }),
    lateMs: fc.double({ min: 0, max: 5, noNaN: true }),
    stalls,
  });

/** Slow iterations of up to 300 ms, at most one in each fifth of the run before its last. */
const shortStalls = fc
  .array(fc.integer({ min: 0, max: 300 }), { maxLength: 4 })
  .map((lengths) => lengths.map((ms, index) => ({ atFraction: (index + 1) / 5, ms })));

describe('pace', () => {
  it('rate 0: releases the whole cap at once, without waiting', () => {
    expect(pace(startPacing(0), 0, CAP)).toMatchObject({ events: CAP, waitMs: 0 });
    expect(pace(startPacing(0), 12_345, 7)).toMatchObject({ events: 7, waitMs: 0 });
  });

  it('rate 10: an event per 100 ms tick, the first at 100 ms; waits for the next tick', () => {
    const start = startPacing(10);
    expect(pace(start, 99, CAP)).toMatchObject({ events: 0, waitMs: 1 });
    const first = pace(start, 100, CAP);
    expect(first.events).toBe(1);
    expect(pace(first.next, 150, CAP)).toMatchObject({ events: 0, waitMs: 50 });
  });

  it('rate 1: waits until the tick at which a whole event is owed', () => {
    expect(pace(startPacing(1), 0, CAP)).toMatchObject({ events: 0, waitMs: 1_000 });
    expect(pace(startPacing(1), 999, CAP)).toMatchObject({ events: 0, waitMs: 1 });
    expect(pace(startPacing(1), 1_000, CAP).events).toBe(1);
  });

  it('after a 300 ms stall, what is owed goes at the next turns, in chunks of at most the cap', () => {
    const cap = 2_000; // any cap below what is owed
    let state = startPacing(10_000);
    for (let at = 100; at <= 1_000; at += 100) state = pace(state, at, cap).next; // on time: 1,000 a tick
    const late = pace(state, 1_300, cap); // 3,000 owed
    expect(late.events).toBe(cap);
    const rest = pace(late.next, 1_305, cap);
    expect(rest.events).toBe(1_000);
    expect(pace(rest.next, 1_310, cap)).toMatchObject({ events: 0, waitMs: 90 });
  });

  it('owes at most 1 s of rate: a 5 s stall is not made up for', () => {
    const start = startPacing(1_000);
    const after = pace(start, 5_000, 10_000);
    expect(after.events).toBe(1_000);
    expect(pace(after.next, 5_050, 10_000).events).toBe(0);
  });

  it('never releases ahead of rate × elapsed time', () => {
    fc.assert(
      fc.property(
        loops(shortStalls.map(() => [])).chain((loop) =>
          shortStalls.map((stalls) => ({
            ...loop,
            stalls: stalls.map(({ atFraction, ms }) => ({ atMs: atFraction * loop.durationMs, ms })),
          })),
        ),
        (loop) => {
          let sum = 0;
          const ahead = simulate(loop).filter(({ atMs, events }) => {
            sum += events;
            return sum > Math.floor((loop.rate * atMs) / 1_000);
          });
          expect(ahead).toEqual([]);
        },
      ),
    );
  });

  it('catches up on slow iterations (a send held up 300 ms): the rate is kept over the run', () => {
    fc.assert(
      fc.property(
        loops(fc.constant([])).chain((loop) =>
          shortStalls.map((stalls) => ({
            ...loop,
            stalls: stalls.map(({ atFraction, ms }) => ({ atMs: atFraction * loop.durationMs, ms })),
          })),
        ),
        (loop) => {
          // Behind by at most a tick and the loop's last step at the end.
          expect(total(simulate(loop))).toBeGreaterThanOrEqual(
            Math.floor((loop.rate * (loop.durationMs - 2 * TICK_MS - 50)) / 1_000),
          );
        },
      ),
    );
  });

  it('after any stall, however long, no window holds more than rate × (window + tick) + 1 s of rate', () => {
    fc.assert(
      fc.property(
        loops(
          fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 5_000 }), ms: fc.integer({ min: 0, max: 5_000 }) }), {
            maxLength: 3,
          }),
        ),
        (loop) => {
          const burst = (loop.rate * (TICK_MS + BURST_MS)) / 1_000;
          expect(worstWindowExcess(simulate(loop), loop.rate)).toBeLessThanOrEqual(burst);
        },
      ),
    );
  });

  it('releases a tick’s worth at a time: one small chunk per tick, however fast the loop turns', () => {
    fc.assert(
      fc.property(loops(fc.constant([])), (loop) => {
        const released = simulate(loop);
        const small = released.filter(({ events }) => events < CAP).length;
        expect(small).toBeLessThanOrEqual(Math.ceil(loop.durationMs / TICK_MS) + 1);
      }),
    );
  });

  it('15,000/s with a 3 ms fsync per chunk: chunks of 1,500 events, not of 45', () => {
    const released = simulate({
      rate: 15_000,
      durationMs: 10_000,
      fixedCostMs: 3,
      perEventMs: 0.002,
      lateMs: 1,
      stalls: [],
    });
    expect(released.length).toBeLessThanOrEqual(101);
    expect(Math.min(...released.map(({ events }) => events))).toBeGreaterThanOrEqual(1_500);
  });
});
