import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planReservation, type IdBlock, type IdOwner, type SequenceState } from './id-blocks.js';

const fresh: SequenceState = { next: 0, lastOwner: null, lastStart: null };

describe('planReservation', () => {
  it('hands out consecutive blocks, never below the floor', () => {
    const a = planReservation(fresh, { owner: 'generator', size: 100, floor: 0 });
    expect(a.block).toEqual({ first: 0, end: 100 });
    const b = planReservation(a.state, { owner: 'api', size: 5, floor: 0 });
    expect(b.block).toEqual({ first: 100, end: 105 });
    expect(planReservation(b.state, { owner: 'api', size: 5, floor: 1_000 }).block).toEqual({
      first: 1_000,
      end: 1_005,
    });
  });

  it('gives a restarting generator the rest of its own last block (contiguous ids when alone)', () => {
    const reserved = planReservation(fresh, { owner: 'generator', size: 100, floor: 0 });
    // Crashed after writing ids 0..41: the log says 42.
    expect(planReservation(reserved.state, { owner: 'generator', size: 100, floor: 42, resumeFrom: 42 }).block).toEqual(
      { first: 42, end: 100 },
    );
    // Not once the API reserved after it.
    const api = planReservation(reserved.state, { owner: 'api', size: 3, floor: 0 });
    expect(planReservation(api.state, { owner: 'generator', size: 100, floor: 42, resumeFrom: 42 }).block).toEqual({
      first: 103,
      end: 203,
    });
  });

  it('never hands the same id to two reservations, whoever asks in whatever order', () => {
    const step = fc.record({
      owner: fc.constantFrom<IdOwner>('generator', 'api'),
      size: fc.integer({ min: 1, max: 50 }),
      used: fc.nat(50),
      restart: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let state = fresh;
        /** Ids written so far, and the generator's current block and position. */
        const written: number[] = [];
        const handedOut: IdBlock[] = [];
        let generator: { block: IdBlock; at: number } | undefined;
        for (const { owner, size, used, restart } of steps) {
          const floor = written.length === 0 ? 0 : Math.max(...written) + 1;
          const resumeFrom = owner === 'generator' && restart && generator !== undefined ? generator.at : undefined;
          const plan = planReservation(state, {
            owner,
            size,
            floor,
            ...(resumeFrom === undefined ? {} : { resumeFrom }),
          });
          state = plan.state;
          handedOut.push(plan.block);
          // The holder writes some of its block, in order.
          const count = Math.min(used, plan.block.end - plan.block.first);
          for (let id = plan.block.first; id < plan.block.first + count; id += 1) written.push(id);
          if (owner === 'generator') generator = { block: plan.block, at: plan.block.first + count };
        }
        expect(new Set(written).size).toBe(written.length);
      }),
      { numRuns: 500 },
    );
  });
});
