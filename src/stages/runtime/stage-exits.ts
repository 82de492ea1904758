/** Where the supervisor stands when a stage ends: stages only ever end on their own by failing. */
export type SupervisorPhase = 'running' | 'stopping';

/** How a stage's work ended: it returned, or it threw (or rejected with) `error`. */
export type StageExit = { readonly kind: 'returned' } | { readonly kind: 'threw'; readonly error: unknown };

/**
 * What the supervisor makes of an exit:
 * * `stopped` — asked to stop, it stopped: nothing to report;
 * * `failed` — the run fails with `error` (a stage that returns while running has stopped
 *   unexpectedly: a stage runs until it is stopped);
 * * `failed-while-stopping` — it threw on its way out: the stop goes on, the error is logged.
 */
export type ExitDecision =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'failed-while-stopping'; readonly error: Error };

export function decideExit(name: string, phase: SupervisorPhase, exit: StageExit): ExitDecision {
  if (exit.kind === 'returned')
    return phase === 'stopping'
      ? { kind: 'stopped' }
      : { kind: 'failed', error: new Error(`${name} stopped unexpectedly`) };
  const error = exit.error instanceof Error ? exit.error : new Error(String(exit.error));
  return phase === 'stopping' ? { kind: 'failed-while-stopping', error } : { kind: 'failed', error };
}
