import { setTimeout as sleep } from 'node:timers/promises';

/** kafkajs marks transient broker errors (a new topic's leader not known yet, …) as retriable. */
function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/**
 * Runs `work`, retrying with back-off while it fails with errors marked retriable — for start-up
 * steps right after topic creation, when metadata is still settling on the brokers.
 */
export async function withRetries<T>(work: () => Promise<T>, attempts = 8, initialDelayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error;
      await sleep(initialDelayMs * 2 ** Math.min(attempt - 1, 4));
    }
  }
}
