import { describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.js';
import type { LatenessAnalyser } from './analyser.js';
import type { ReadOptions, ReadResult } from './log-reader.js';
import { LatenessService } from './service.js';
import type { WorkerSource } from './worker-reader.js';

const WINDOWS = { sizeMs: 10_000, slideMs: 10_000 };
const BASE = Date.UTC(2026, 10, 22, 11, 0, 0);

/** A log of one partition, read in whatever piece has arrived since the last read. */
function fakeLog() {
  const times: number[] = [];
  const calls: (bigint | undefined)[] = [];
  let failNext = false;
  const read = (analyser: LatenessAnalyser, _source: WorkerSource, options: ReadOptions = {}): Promise<ReadResult> => {
    const from = options.from?.get(0);
    calls.push(from);
    if (failNext) {
      failNext = false;
      analyser.step(0, BASE); // half a batch, then the registry goes away
      return Promise.reject(new Error('registry unreachable'));
    }
    for (let offset = Number(from ?? 0n); offset < times.length; offset += 1) analyser.step(0, times[offset] ?? 0);
    return Promise.resolve({ offsets: new Map([[0, BigInt(times.length)]]), complete: true });
  };
  return { times, calls, read, fail: () => (failNext = true) };
}

function service(log: ReturnType<typeof fakeLog>) {
  const source = { topic: 'stages' } as unknown as WorkerSource;
  return new LatenessService({
    source,
    logger: createLogger('silent', 'test'),
    read: log.read,
    refreshMs: 0,
    defaults: { windows: WINDOWS, delays: [15_000], target: 0.001 },
  });
}

describe('LatenessService', () => {
  it('answers at once, from the last finished read, and reads on from its offsets', async () => {
    const log = fakeLog();
    log.times.push(BASE + 40_000, BASE + 10_000, BASE + 41_000);
    const lateness = service(log);
    const first = lateness.answer(WINDOWS, [15_000], 0.001);
    expect([first.state, first.document]).toEqual(['computing', null]);
    await lateness.settled();
    const second = lateness.answer(WINDOWS, [0, 15_000], 0.001);
    expect(second.document?.events).toBe(3);
    expect(second.document?.offsets).toEqual([{ partition: 0, next: '3' }]);
    expect(second.document?.delays.map((cost) => cost.lateEvents)).toEqual([1, 1]);
    log.times.push(BASE - 30_000);
    await lateness.settled();
    expect(lateness.answer(WINDOWS, [15_000], 0.001).document?.events).toBe(3); // starts the next read
    await lateness.settled();
    const third = lateness.answer(WINDOWS, [15_000], 0.001);
    expect(third.document?.events).toBe(4);
    expect(log.calls).toEqual([undefined, 3n, 3n, 4n]);
    await lateness.close();
  });

  it('after a failed read keeps the last answer, says why, and reads again from the start', async () => {
    const log = fakeLog();
    log.times.push(BASE, BASE + 1_000);
    const lateness = service(log);
    lateness.answer(WINDOWS, [15_000], 0.001);
    await lateness.settled();
    log.fail();
    lateness.answer(WINDOWS, [15_000], 0.001);
    await lateness.settled();
    const failed = lateness.answer(WINDOWS, [15_000], 0.001);
    expect(failed.error).toBe('registry unreachable');
    expect(failed.document?.events).toBe(2);
    await lateness.settled();
    expect(log.calls.at(-1)).toBeUndefined();
    expect(lateness.answer(WINDOWS, [15_000], 0.001).document?.events).toBe(2);
    await lateness.close();
  });

  it('reads one analysis at a time, refuses new window settings beyond its queue, aborts abandoned reads', async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const finish = new Map<string, () => void>();
    const read = (analyser: LatenessAnalyser, _source: WorkerSource, options: ReadOptions): Promise<ReadResult> => {
      const key = `${analyser.windows.sizeMs}/${analyser.windows.slideMs}`;
      started.push(key);
      return new Promise((resolve) => {
        const done = (complete: boolean) => resolve({ offsets: new Map(), complete });
        finish.set(key, () => done(true));
        options.signal?.addEventListener('abort', () => {
          aborted.push(key);
          done(false);
        });
      });
    };
    const lateness = new LatenessService({
      source: { topic: 'stages' } as unknown as WorkerSource,
      logger: createLogger('silent', 'test'),
      read,
      refreshMs: 60_000,
      keep: 3,
      queue: 1,
      abandonMs: 200,
      defaults: { windows: WINDOWS, delays: [15_000], target: 0.001 },
    });
    const a = { sizeMs: 10_000, slideMs: 10_000 };
    const b = { sizeMs: 20_000, slideMs: 10_000 };
    const c = { sizeMs: 30_000, slideMs: 10_000 };
    expect(lateness.answer(a, [0], 0).state).toBe('computing');
    expect(lateness.answer(b, [0], 0).state).toBe('computing');
    expect(started).toEqual(['10000/10000']); // b waits for its turn
    expect(() => lateness.answer(c, [0], 0)).toThrow(expect.objectContaining({ code: 'KAPPA_LATENESS_BUSY' }));
    finish.get('10000/10000')?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toEqual(['10000/10000', '20000/10000']);
    expect(lateness.answer(a, [0], 0).state).toBe('ready');
    // Nobody asks about b any more: its read is aborted (in production: its worker terminated).
    const deadline = Date.now() + 5_000;
    while (aborted.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(aborted).toEqual(['20000/10000']);
    await lateness.close();
  });

  it('close aborts the running read', async () => {
    let aborted = false;
    const lateness = new LatenessService({
      source: { topic: 'stages' } as unknown as WorkerSource,
      logger: createLogger('silent', 'test'),
      read: (_analyser, _source, options) =>
        new Promise((resolve) =>
          options.signal?.addEventListener('abort', () => {
            aborted = true;
            resolve({ offsets: new Map(), complete: false });
          }),
        ),
      defaults: { windows: WINDOWS, delays: [15_000], target: 0.001 },
    });
    lateness.answer(WINDOWS, [0], 0);
    await lateness.close();
    expect(aborted).toBe(true);
  });
});
