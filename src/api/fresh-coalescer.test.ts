import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreshCoalescer } from './fresh-coalescer.js';

/** Lets every pending microtask and promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A store whose reads the test finishes by hand; a read sees the store as it was when the read started. */
function harness() {
  let clock = 0;
  let version = 0;
  const pending: { key: string; finish(ok: boolean): void }[] = [];
  const running = new Map<string, number>();
  let overlap = false;
  const reads: { key: string; startedAt: number }[] = [];
  const read = (key: string) => () => {
    const startedAt = (clock += 1);
    const seen = version;
    reads.push({ key, startedAt });
    running.set(key, (running.get(key) ?? 0) + 1);
    if ((running.get(key) ?? 0) > 1) overlap = true;
    return new Promise<{ key: string; version: number; startedAt: number }>((resolve, reject) => {
      pending.push({
        key,
        finish: (ok) => {
          running.set(key, (running.get(key) ?? 1) - 1);
          if (ok) resolve({ key, version: seen, startedAt });
          else reject(new Error(`read of ${key} failed`));
        },
      });
    });
  };
  return {
    read,
    tick: () => (clock += 1),
    write: () => (version += 1),
    version: () => version,
    pending,
    reads,
    overlap: () => overlap,
  };
}

describe('FreshCoalescer', () => {
  it('never hands a request the read that was running when it arrived: it waits for the next one', async () => {
    const store = harness();
    const coalescer = new FreshCoalescer<{ version: number }>();
    const first = coalescer.run('users', store.read('users'));
    await settle();
    store.write(); // e.g. a cutover returns while the first read runs
    const second = coalescer.run('users', store.read('users'));
    const third = coalescer.run('users', store.read('users'));
    await settle();
    expect(store.pending).toHaveLength(1);
    store.pending.shift()?.finish(true);
    expect(await first).toMatchObject({ version: 0 });
    await settle();
    expect(store.pending).toHaveLength(1); // one read for both waiting requests
    store.pending.shift()?.finish(true);
    expect(await second).toMatchObject({ version: 1 });
    expect(await third).toBe(await second);
    expect(coalescer.reads).toBe(2);
  });

  it('lets the requests that arrive before a read starts share it; a read starts when `defer` runs it', async () => {
    const store = harness();
    const deferred: (() => void)[] = [];
    const coalescer = new FreshCoalescer<{ version: number }>((start) => deferred.push(start));
    const first = coalescer.run('users', store.read('users'));
    const second = coalescer.run('users', store.read('users'));
    await settle();
    expect(store.reads).toHaveLength(0);
    deferred.shift()?.();
    await settle();
    expect(store.reads).toHaveLength(1);
    store.write();
    const third = coalescer.run('users', store.read('users')); // arrives while the read runs
    store.pending.shift()?.finish(true);
    expect(await first).toMatchObject({ version: 0 });
    expect(await second).toBe(await first);
    await settle();
    expect(store.reads).toHaveLength(1); // the next read waits for `defer` too
    deferred.shift()?.();
    await settle();
    store.pending.shift()?.finish(true);
    expect(await third).toMatchObject({ version: 1 });
    expect(coalescer.reads).toBe(2);
  });

  it('keeps keys apart and passes a failed read to exactly the requests it served', async () => {
    const store = harness();
    const coalescer = new FreshCoalescer<{ key: string }>();
    const users = coalescer.run('users', store.read('users'));
    const ages = coalescer.run('ages', store.read('ages'));
    await settle();
    expect(store.pending.map((entry) => entry.key)).toEqual(['users', 'ages']);
    const waiting = coalescer.run('users', store.read('users'));
    store.pending.shift()?.finish(false);
    store.pending.shift()?.finish(true);
    await expect(users).rejects.toThrow('read of users failed');
    expect(await ages).toMatchObject({ key: 'ages' });
    await settle();
    store.pending.shift()?.finish(true);
    expect(await waiting).toMatchObject({ key: 'users' });
  });

  it('answers every request from a read that started after it arrived, one read per key at a time', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('arrive' as const), key: fc.constantFrom('users', 'depts') }),
      fc.record({ kind: fc.constant('write' as const) }),
      fc.record({ kind: fc.constant('finish' as const), index: fc.nat(), ok: fc.boolean() }),
      fc.record({ kind: fc.constant('turn' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.boolean(), async (ops, byHand) => {
        const store = harness();
        // By hand: reads start only at a 'turn' (as setImmediate starts them after an I/O turn).
        const deferred: (() => void)[] = [];
        const turn = () => deferred.splice(0).forEach((start) => start());
        const coalescer = new FreshCoalescer<{ key: string; version: number; startedAt: number }>(
          byHand ? (start) => deferred.push(start) : undefined,
        );
        const requests: {
          key: string;
          arrivedAt: number;
          versionAtArrival: number;
          outcome?: { key: string; version: number; startedAt: number } | 'failed';
        }[] = [];
        for (const step of ops) {
          if (step.kind === 'write') store.write();
          else if (step.kind === 'turn') turn();
          else if (step.kind === 'finish') {
            const [entry] = store.pending.splice(step.index % Math.max(1, store.pending.length), 1);
            entry?.finish(step.ok);
          } else {
            const request: (typeof requests)[number] = {
              key: step.key,
              arrivedAt: store.tick(),
              versionAtArrival: store.version(),
            };
            requests.push(request);
            coalescer.run(step.key, store.read(step.key)).then(
              (value) => (request.outcome = value),
              () => (request.outcome = 'failed'),
            );
          }
          await settle();
        }
        while (store.pending.length > 0 || deferred.length > 0) {
          turn();
          await settle();
          store.pending.shift()?.finish(true);
          await settle();
        }
        expect(store.overlap()).toBe(false);
        for (const request of requests) {
          expect(request.outcome).toBeDefined();
          if (request.outcome === undefined || request.outcome === 'failed') continue;
          expect(request.outcome.key).toBe(request.key);
          expect(request.outcome.startedAt).toBeGreaterThan(request.arrivedAt);
          expect(request.outcome.version).toBeGreaterThanOrEqual(request.versionAtArrival);
        }
        expect(coalescer.reads).toBe(store.reads.length);
        expect(coalescer.reads).toBeLessThanOrEqual(requests.length);
      }),
      { numRuns: 300 },
    );
  });
});
