import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { incidentCounts } from '../shared/incidents.js';
import { startIdleClose } from './idle-close.js';

afterEach(() => {
  vi.useRealTimers();
});

function swallowed(): number {
  return incidentCounts().find((entry) => entry.kind === 'swallowed' && entry.what === 'idle-close-tick')?.count ?? 0;
}

describe('startIdleClose (--idle-close)', () => {
  it('logs and counts a failed tick instead of leaving its rejection unhandled, and closes at the next one', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    type Line = { msg: string; rows?: number; idleMs?: number };
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const outcomes = [() => Promise.reject(new Error('MySQL went away')), () => Promise.resolve(3)];
    const asked: number[] = [];
    const driver = {
      idleClose: (idleMs: number) => {
        asked.push(idleMs);
        return (outcomes.shift() ?? (() => Promise.resolve(0)))();
      },
    };
    const before = swallowed();
    const stop = startIdleClose(driver, 30_000, logger);
    try {
      await vi.advanceTimersByTimeAsync(1_000);
      // Node reports an unhandled rejection once the microtasks of a turn are done.
      await nextTurn();
      await nextTurn();
      expect(unhandled).toEqual([]);
      expect(swallowed()).toBe(before + 1);
      expect(lines.find((line) => line.msg.startsWith('idle close failed'))).toBeDefined();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(lines.find((line) => line.rows === 3)).toMatchObject({ idleMs: 30_000 });
      stop();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(asked).toEqual([30_000, 30_000]);
    } finally {
      stop();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
