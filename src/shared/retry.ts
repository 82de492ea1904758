import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * kappa's one retry policy, like kafkajs's single retrier: exponential back-off with jitter,
 * bounded by attempts and a deadline, cut short by an abort signal, and deciding from the error's
 * `retriable` flag alone (KappaError and kafkajs's KafkaJSError both carry it) — never from its
 * message. A caller whose work fails with foreign errors maps them to retriable KappaErrors first,
 * or names the errors it waits out with `retriable`.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (default: unlimited — bound it by a deadline or signal). */
  readonly attempts?: number;
  /** No attempt starts later than this many ms after the first (default: none). */
  readonly deadlineMs?: number;
  /** Delay before the second attempt (default 250 ms); each later one `factor` times longer… */
  readonly initialDelayMs?: number;
  readonly factor?: number;
  /** …up to this (default 5 s). */
  readonly maxDelayMs?: number;
  /** Each delay is drawn from ±this fraction around its nominal value, so retrying clients spread out (default 0.2). */
  readonly jitter?: number;
  readonly signal?: AbortSignal;
  /** Which failures are worth another attempt (default: the error's own `retriable` flag, isRetriable). */
  readonly retriable?: (error: unknown) => boolean;
  /** Told before each wait: log it. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Seams for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** kafkajs marks transient broker errors (a new topic's leader not known yet, …) as retriable; so does KappaError. */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** The wait after failed attempt `attempt` (1-based). Pure; `random` is in [0, 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: number): number {
  const initial = policy.initialDelayMs ?? 250;
  const nominal = Math.min(policy.maxDelayMs ?? 5_000, initial * (policy.factor ?? 2) ** Math.min(attempt - 1, 30));
  const jitter = policy.jitter ?? 0.2;
  return Math.max(0, Math.round(nominal * (1 - jitter + 2 * jitter * random)));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, signal === undefined ? undefined : { signal });
}

/**
 * Runs `work` until it succeeds; rethrows its last error once that is not retriable, the attempts
 * or the deadline are used up, or `signal` aborts (a wait in progress ends at once).
 */
export async function retry<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  const now = policy.now ?? Date.now;
  const sleep = policy.sleep ?? defaultSleep;
  const random = policy.random ?? Math.random;
  const deadline = policy.deadlineMs === undefined ? Number.POSITIVE_INFINITY : now() + policy.deadlineMs;
  const attempts = policy.attempts ?? Number.POSITIVE_INFINITY;
  const aborted = () => policy.signal?.aborted === true;
  const worthRetrying = policy.retriable ?? isRetriable;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!worthRetrying(error) || attempt >= attempts || aborted()) throw error;
      const delay = backoffDelay(attempt, policy, random());
      if (now() + delay > deadline) throw error;
      policy.onRetry?.(error, attempt, delay);
      try {
        await sleep(delay, policy.signal);
      } catch {
        throw error; // aborted while waiting: the caller wants the failure, not the AbortError
      }
      if (aborted()) throw error;
    }
  }
}
