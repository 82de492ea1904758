import { describe, expect, it } from 'vitest';
import { decideExit, type StageExit, type SupervisorPhase } from './stage-exits.js';

const returned: StageExit = { kind: 'returned' };
const threw = (error: unknown): StageExit => ({ kind: 'threw', error });

describe('decideExit: what a stage ending means', () => {
  it('a stage that returns after it was asked to stop has stopped', () => {
    expect(decideExit('enrich', 'stopping', returned)).toEqual({ kind: 'stopped' });
  });

  it('a stage that returns while running has stopped unexpectedly, and fails the run naming it', () => {
    const decision = decideExit('aggregate v2', 'running', returned);
    expect(decision.kind).toBe('failed');
    expect(decision.kind === 'failed' && decision.error.message).toBe('aggregate v2 stopped unexpectedly');
  });

  it('a stage that throws while running fails the run with its own error', () => {
    const error = new Error('broker gone');
    expect(decideExit('ingest', 'running', threw(error))).toEqual({ kind: 'failed', error });
  });

  it('a stage that throws while stopping is reported, and the stop goes on', () => {
    const error = new Error('commit failed');
    expect(decideExit('enrich', 'stopping', threw(error))).toEqual({ kind: 'failed-while-stopping', error });
  });

  it.each<[SupervisorPhase, 'failed' | 'failed-while-stopping']>([
    ['running', 'failed'],
    ['stopping', 'failed-while-stopping'],
  ])('a thrown non-Error becomes an Error carrying its text (%s)', (phase, kind) => {
    const decision = decideExit('enrich', phase, threw('socket hang up'));
    expect(decision.kind).toBe(kind);
    expect(decision.kind !== 'stopped' && decision.error).toBeInstanceOf(Error);
    expect(decision.kind !== 'stopped' && decision.error.message).toBe('socket hang up');
  });
});
