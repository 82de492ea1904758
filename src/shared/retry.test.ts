import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KappaError } from './errors.js';
import { backoffDelay, isRetriable, retry, type RetryPolicy } from './retry.js';

const transient = () => new KappaError('KAPPA_ID_SEQUENCE_UNAVAILABLE', 'MySQL went away');
const permanent = () => new KappaError('KAPPA_BAD_RECORD', 'cannot decode');

/** A fake clock: sleeping advances it; every wait is recorded. */
function fakeTime(start = 1_000) {
  let now = start;
  const waits: number[] = [];
  const policy: Pick<RetryPolicy, 'now' | 'sleep' | 'random'> = {
    now: () => now,
    sleep: (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
  };
  return { policy, waits };
}

/** Work failing with the given errors in turn, then answering `done`. */
function failing(errors: readonly Error[]) {
  let calls = 0;
  const work = (attempt: number) => {
    calls += 1;
    expect(attempt).toBe(calls);
    const error = errors[calls - 1];
    return error === undefined ? Promise.resolve('done') : Promise.reject(error);
  };
  return { work, calls: () => calls };
}

describe('retry', () => {
  it('retries retriable errors with growing, capped waits, then answers', async () => {
    const time = fakeTime();
    const { work, calls } = failing(Array.from({ length: 6 }, transient));
    await expect(retry(work, { ...time.policy, initialDelayMs: 100, maxDelayMs: 1_000 })).resolves.toBe('done');
    expect(calls()).toBe(7);
    expect(time.waits).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('decides from the retriable flag alone: a non-retriable error, or a plain Error, ends at once', async () => {
    const time = fakeTime();
    const error = permanent();
    await expect(retry(failing([error]).work, time.policy)).rejects.toBe(error);
    const plain = new Error('ECONNREFUSED'); // no flag: not for the retrier to guess
    await expect(retry(failing([plain]).work, time.policy)).rejects.toBe(plain);
    expect(time.waits).toEqual([]);
    expect(isRetriable({ retriable: true })).toBe(true);
    expect(isRetriable(Object.assign(new Error('kafkajs'), { retriable: false }))).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });

  it('with `retriable`, decides from it instead: only the failures it names are tried again', async () => {
    const time = fakeTime();
    const plain = new Error('settling');
    const { work, calls } = failing([plain, plain]);
    const named = (error: unknown) => error === plain;
    await expect(retry(work, { ...time.policy, retriable: named })).resolves.toBe('done');
    expect(calls()).toBe(3);
    const flagged = transient(); // retriable by its flag, but not named
    await expect(retry(failing([flagged]).work, { ...time.policy, retriable: named })).rejects.toBe(flagged);
    expect(time.waits).toHaveLength(2);
  });

  it('gives up after the attempts, with the last error', async () => {
    const time = fakeTime();
    const errors = [transient(), transient(), transient()];
    const { work, calls } = failing(errors);
    await expect(retry(work, { ...time.policy, attempts: 3 })).rejects.toBe(errors[2]);
    expect(calls()).toBe(3);
  });

  it('never waits past the deadline', async () => {
    const time = fakeTime();
    const { work, calls } = failing(Array.from({ length: 20 }, transient));
    await expect(retry(work, { ...time.policy, initialDelayMs: 100, deadlineMs: 1_000 })).rejects.toMatchObject({
      code: 'KAPPA_ID_SEQUENCE_UNAVAILABLE',
    });
    expect(time.waits).toEqual([100, 200, 400]); // 800 more would end at 1 500 ms
    expect(calls()).toBe(4);
  });

  it('stops when the signal aborts: before a wait, and during one', async () => {
    const before = new AbortController();
    before.abort();
    const first = transient();
    await expect(retry(failing([first]).work, { ...fakeTime().policy, signal: before.signal })).rejects.toBe(first);

    const during = new AbortController();
    const second = transient();
    const { work, calls } = failing([second, transient()]);
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('AbortError')), { once: true });
        during.abort();
      });
    await expect(retry(work, { sleep, signal: during.signal })).rejects.toBe(second);
    expect(calls()).toBe(1);
  });

  it('tells onRetry about each wait', async () => {
    const time = fakeTime();
    const told: [number, number][] = [];
    await retry(failing([transient(), transient()]).work, {
      ...time.policy,
      initialDelayMs: 10,
      onRetry: (_error, attempt, delay) => told.push([attempt, delay]),
    });
    expect(told).toEqual([
      [1, 10],
      [2, 20],
    ]);
  });
});

describe('backoffDelay', () => {
  it('stays within ±jitter of the nominal exponential delay, capped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialDelayMs, maxDelayMs, jitter, random) => {
          const nominal = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 30));
          const delay = backoffDelay(attempt, { initialDelayMs, maxDelayMs, jitter }, random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - jitter)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * (1 + jitter)));
        },
      ),
    );
  });
});
