import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.js';
import { decideExit, type SupervisorPhase } from './stage-exits.js';

export interface SupervisorOptions {
  readonly logger: Logger;
  /**
   * How long `stop()` waits for the stages' last transactions and commits before it returns anyway
   * (the process then ends them); unset: as long as they take.
   */
  readonly stopGraceMs?: number;
  /** Aborting it stops the stages too (`stop()` still awaits them). */
  readonly signal?: AbortSignal;
}

/**
 * Runs the stages of one command in this process (`kappa up`, `kappa recover`): starts each with
 * one stop signal, turns the first failure — or a stage that ends while not asked to — into
 * `failed`, and stops them all gracefully. The decisions are `decideExit`'s.
 */
export class StageSupervisor {
  /** Rejects with the first stage failure; never resolves. */
  readonly failed: Promise<never>;
  readonly #stages = new AbortController();
  readonly #running = new Map<symbol, { readonly name: string; readonly done: Promise<void> }>();
  readonly #options: SupervisorOptions;
  #fail: (error: Error) => void = () => undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.failed.catch(() => undefined);
    options.signal?.addEventListener('abort', () => this.#stages.abort(), { once: true, signal: this.#stages.signal });
  }

  /** The signal every stage stops on. */
  get signal(): AbortSignal {
    return this.#stages.signal;
  }

  get phase(): SupervisorPhase {
    return this.#stages.signal.aborted ? 'stopping' : 'running';
  }

  /** Starts `work` with the stop signal; its exit is decided by `decideExit`. */
  start(name: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    const key = Symbol(name);
    const done = Promise.resolve()
      .then(() => work(this.signal))
      .then(
        () => this.#exited(name, { kind: 'returned' }),
        (error: unknown) => this.#exited(name, { kind: 'threw', error }),
      )
      .finally(() => this.#running.delete(key));
    this.#running.set(key, { name, done });
  }

  /** Asks every stage to stop and waits for them (at most `stopGraceMs`). */
  async stop(): Promise<void> {
    this.#stages.abort();
    const all = Promise.all([...this.#running.values()].map((stage) => stage.done));
    const grace = this.#options.stopGraceMs;
    if (grace === undefined) return void (await all);
    const timer = new AbortController();
    await Promise.race([all, sleep(grace, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    const left = [...this.#running.values()].map((stage) => stage.name);
    if (left.length > 0)
      this.#options.logger.warn({ stages: left, graceMs: grace }, 'stages still running after the stop grace');
  }

  #exited(name: string, exit: Parameters<typeof decideExit>[2]): void {
    const decision = decideExit(name, this.phase, exit);
    if (decision.kind === 'failed') this.#fail(decision.error);
    else if (decision.kind === 'failed-while-stopping')
      this.#options.logger.warn({ stage: name, err: decision.error }, 'stage failed while stopping');
  }
}
