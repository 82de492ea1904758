import { describe, expect, it, vi } from 'vitest';
import { WakeUp } from './wake-up.js';

describe('WakeUp', () => {
  it('waits the time out without news, and ends at once on a wake', async () => {
    vi.useFakeTimers();
    try {
      const wakeUp = new WakeUp();
      let ended = false;
      const waiting = wakeUp.wait(500).then(() => (ended = true));
      await vi.advanceTimersByTimeAsync(499);
      expect(ended).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await waiting;
      expect(ended).toBe(true);

      ended = false;
      const woken = wakeUp.wait(500).then(() => (ended = true));
      await vi.advanceTimersByTimeAsync(10);
      wakeUp.wake();
      await woken;
      expect(ended).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a wake that came while nobody waited for the next wait, once', async () => {
    vi.useFakeTimers();
    try {
      const wakeUp = new WakeUp();
      wakeUp.wake();
      wakeUp.wake();
      await wakeUp.wait(500); // at once: no timer needed
      let ended = false;
      const next = wakeUp.wait(500).then(() => (ended = true));
      await vi.advanceTimersByTimeAsync(100);
      expect(ended).toBe(false);
      await vi.advanceTimersByTimeAsync(400);
      await next;
    } finally {
      vi.useRealTimers();
    }
  });
});
