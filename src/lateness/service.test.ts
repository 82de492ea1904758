import { describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.js';
import type { LatenessAnalyser } from './analyser.js';
import type { ReadOptions, ReadResult, StagesLogSource } from './log-reader.js';
import { LatenessService } from './service.js';

const WINDOWS = { sizeMs: 10_000, slideMs: 10_000 };
const BASE = Date.UTC(2026, 10, 22, 11, 0, 0);

/** A log of one partition, read in whatever piece has arrived since the last read. */
function fakeLog() {
  const times: number[] = [];
  const calls: (bigint | undefined)[] = [];
  let failNext = false;
  const read = (
    analyser: LatenessAnalyser,
    _source: StagesLogSource,
    options: ReadOptions = {},
  ): Promise<ReadResult> => {
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
  const source = { topic: 'stages', logger: createLogger('silent', 'test') } as unknown as StagesLogSource;
  return new LatenessService({
    source,
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
});
