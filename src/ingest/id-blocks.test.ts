import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_WRITER,
  needsLogSearch,
  planReservation,
  planSettle,
  resumePoint,
  type HeldBlock,
  type IdBlock,
  type SequenceState,
} from './id-blocks.js';

const fresh: SequenceState = { next: 0, held: null };

describe('planReservation', () => {
  it('hands out consecutive blocks, never below the floor', () => {
    const a = planReservation(fresh, { writer: 'w-a', size: 100, floor: 0 });
    expect(a.block).toEqual({ first: 0, end: 100 });
    expect(a.state).toEqual({ next: 100, held: { first: 0, end: 100, settled: false } });
    const b = planReservation({ next: a.state.next, held: null }, { writer: API_WRITER, size: 5, floor: 0 });
    expect(b.block).toEqual({ first: 100, end: 105 });
    expect(planReservation({ next: 105, held: null }, { writer: API_WRITER, size: 5, floor: 1_000 }).block).toEqual({
      first: 1_000,
      end: 1_005,
    });
  });

  it('gives a restarting writer the rest of its own block, whoever reserved since', () => {
    const held: HeldBlock = { first: 0, end: 100, settled: false };
    // Crashed after writing ids 0..41; two other writers reserved since (next is 300).
    expect(planReservation({ next: 300, held }, { writer: 'w-a', size: 100, floor: 290, resumeFrom: 42 })).toEqual({
      block: { first: 42, end: 100 },
      state: { next: 300, held: { first: 42, end: 100, settled: false } },
    });
  });

  it('never gives back what is outside the writer’s own block, or a block the sequence no longer vouches for', () => {
    const held: HeldBlock = { first: 10, end: 100, settled: false };
    const request = { writer: 'w-a', size: 50, floor: 0 };
    expect(planReservation({ next: 300, held }, { ...request, resumeFrom: 5 }).block).toEqual({ first: 300, end: 350 });
    expect(planReservation({ next: 300, held }, { ...request, resumeFrom: 100 }).block).toEqual({
      first: 300,
      end: 350,
    });
    expect(planReservation({ next: 300, held: null }, { ...request, resumeFrom: 50 }).block).toEqual({
      first: 300,
      end: 350,
    });
    // The sequence row was lost (next back at 0): nobody can say who got ids 10..99 since.
    expect(planReservation({ next: 0, held }, { ...request, floor: 20, resumeFrom: 20 }).block).toEqual({
      first: 20,
      end: 70,
    });
  });
});

describe('resumePoint and planSettle', () => {
  it('resumes after the last id used, or where the held part starts', () => {
    const held: HeldBlock = { first: 10, end: 20, settled: false };
    expect(resumePoint(null, 5)).toBeUndefined();
    expect(resumePoint(held, undefined)).toBe(10);
    expect(resumePoint(held, 3)).toBe(10); // the last id used was in an earlier block
    expect(resumePoint(held, 14)).toBe(15);
    expect(resumePoint(held, 19)).toBeUndefined();
  });

  it('records a clean stop inside the held block only', () => {
    const held: HeldBlock = { first: 10, end: 20, settled: false };
    expect(planSettle(held, 15)).toEqual({ first: 15, end: 20, settled: true });
    expect(planSettle(held, 20)).toEqual({ first: 20, end: 20, settled: true });
    expect(planSettle(held, 25)).toBe(held);
    expect(planSettle(null, 5)).toBeNull();
  });

  it('searches the log only after a crash with an empty buffer', () => {
    expect(needsLogSearch(null, undefined)).toBe(false);
    expect(needsLogSearch({ first: 0, end: 9, settled: true }, undefined)).toBe(false);
    expect(needsLogSearch({ first: 0, end: 9, settled: false }, 4)).toBe(false);
    expect(needsLogSearch({ first: 0, end: 9, settled: false }, undefined)).toBe(true);
  });
});

/**
 * A model of several writers sharing one sequence: each writes ids of its blocks in order, and
 * crashes (restart resumes from what it really used) or stops cleanly (settles, then restarts).
 */
type Step =
  | { readonly kind: 'write'; readonly writer: number; readonly count: number; readonly size: number }
  | { readonly kind: 'crash' | 'stop'; readonly writer: number };

function simulate(writers: number, steps: readonly Step[]): number[] {
  let next = 0;
  const held = new Map<string, HeldBlock | null>();
  const written: number[] = [];
  const usedBy = new Map<string, number>();
  /** A running writer's block and position; undefined after a crash or stop. */
  const running = new Map<string, { block: IdBlock; at: number } | undefined>();
  const reserve = (writer: string, size: number, resumeFrom?: number): IdBlock => {
    const floor = written.length === 0 ? 0 : Math.max(...written) + 1;
    const plan = planReservation(
      { next, held: held.get(writer) ?? null },
      { writer, size, floor, ...(resumeFrom === undefined ? {} : { resumeFrom }) },
    );
    next = plan.state.next;
    held.set(writer, plan.state.held);
    return plan.block;
  };
  for (const step of steps) {
    const writer = step.writer % writers === writers - 1 ? API_WRITER : `w-${step.writer % writers}`;
    if (step.kind === 'write') {
      if (writer === API_WRITER) {
        const block = reserve(writer, step.count + 1);
        for (let id = block.first; id < block.end; id += 1) written.push(id);
        continue;
      }
      let state = running.get(writer);
      if (state === undefined) {
        // (Re)start: resume the held block after what this writer really used.
        const resumeFrom = resumePoint(held.get(writer) ?? null, usedBy.get(writer));
        const block = reserve(writer, step.size, resumeFrom);
        state = { block, at: block.first };
      }
      for (let left = step.count; left > 0; left -= 1) {
        if (state.at >= state.block.end) {
          const block = reserve(writer, step.size);
          state = { block, at: block.first };
        }
        written.push(state.at);
        usedBy.set(writer, state.at);
        state = { ...state, at: state.at + 1 };
      }
      running.set(writer, state);
    } else if (writer !== API_WRITER) {
      const state = running.get(writer);
      if (step.kind === 'stop' && state !== undefined) {
        held.set(writer, planSettle(held.get(writer) ?? null, state.at));
        // After a clean stop the writer does not search the log: it resumes from the settled point.
        usedBy.delete(writer);
      }
      running.set(writer, undefined);
    }
  }
  return written;
}

const steps = (writers: number) =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        writer: fc.nat(writers - 1),
        count: fc.nat(60),
        size: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({ kind: fc.constantFrom('crash' as const, 'stop' as const), writer: fc.nat(writers - 1) }),
    ),
    { maxLength: 60 },
  );

describe('writer-owned blocks (model)', () => {
  it('never hand the same id to two writers, whatever the interleaving of writes, crashes and clean stops', () => {
    fc.assert(
      fc.property(steps(4), (run) => {
        const written = simulate(4, run);
        expect(new Set(written).size).toBe(written.length);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a generator writing alone keeps contiguous ids from 0 across crashes and restarts', () => {
    fc.assert(
      fc.property(steps(2), (run) => {
        // Writer 1 of 2 is the API: keep writer 0's steps only.
        const written = simulate(
          2,
          run.filter((step) => step.writer === 0),
        );
        expect(written).toEqual(written.map((_, index) => index));
      }),
      { numRuns: 500 },
    );
  });
});
