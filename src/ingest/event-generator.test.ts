import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLate, makeEvent } from './event-generator.js';
import { formatEventTime } from '../shared/event-time.js';

const options = {
  template: { hello: 'ssm-seoul' },
  timeZone: 'Asia/Seoul',
  lateFraction: 0,
  lateByMs: 30_000,
  seed: 1,
};
// 2026-11-22 11:31:07.250 UTC = 20:31:07 in Seoul (UTC+9, no daylight saving).
const instant = Date.UTC(2026, 10, 22, 11, 31, 7, 250);

describe('formatEventTime', () => {
  it('writes YYYY-MM-DD HH:mm:ss in the zone', () => {
    expect(formatEventTime(instant, 'Asia/Seoul')).toBe('2026-11-22 20:31:07');
    expect(formatEventTime(instant, 'UTC')).toBe('2026-11-22 11:31:07');
    expect(formatEventTime(Date.UTC(2026, 11, 31, 15, 0, 0), 'Asia/Seoul')).toBe('2027-01-01 00:00:00');
    expect(formatEventTime(Date.UTC(2026, 0, 1, 0, 0, 0), 'UTC')).toBe('2026-01-01 00:00:00');
  });

  it('follows daylight saving time', () => {
    expect(formatEventTime(Date.UTC(2026, 6, 1, 12, 0, 0), 'America/New_York')).toBe('2026-07-01 08:00:00');
    expect(formatEventTime(Date.UTC(2026, 0, 1, 12, 0, 0), 'America/New_York')).toBe('2026-01-01 07:00:00');
  });
});

describe('makeEvent', () => {
  it('builds {id, hello, time, event_ts} at whole seconds', () => {
    expect(makeEvent(42, instant, options)).toEqual({
      id: 42,
      hello: 'ssm-seoul',
      time: '2026-11-22 20:31:07',
      event_ts: instant - 250,
    });
  });

  it('merges the template but keeps the generated fields', () => {
    expect(makeEvent(1, instant, { ...options, template: { hello: 'busan', id: 99, time: 'x' } })).toMatchObject({
      id: 1,
      hello: 'busan',
      time: '2026-11-22 20:31:07',
    });
  });

  it('uses a fixed time (a template time) instead of the clock, late ones shifted back from it', () => {
    const fixedTime = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(makeEvent(1, instant, { ...options, fixedTime })).toMatchObject({
      time: '2026-01-01 09:00:00',
      event_ts: fixedTime,
    });
    expect(makeEvent(1, instant, { ...options, fixedTime, lateFraction: 1 })).toMatchObject({
      time: '2026-01-01 08:59:30',
      event_ts: fixedTime - 30_000,
    });
  });

  it('shifts exactly the late ones back by lateBy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (id, seed, fraction) => {
          const event = makeEvent(id, instant, { ...options, seed, lateFraction: fraction });
          expect(event.event_ts).toBe(isLate(seed, id, fraction) ? instant - 250 - 30_000 : instant - 250);
          expect(event.time).toBe(formatEventTime(event.event_ts, 'Asia/Seoul'));
        },
      ),
    );
  });
});

describe('isLate', () => {
  it('never with fraction 0, always with fraction 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (id, seed) => {
        expect(isLate(seed, id, 0)).toBe(false);
        expect(isLate(seed, id, 1)).toBe(true);
      }),
    );
  });

  it('picks close to the asked fraction, differently per seed', () => {
    for (const fraction of [0.05, 0.1, 0.5]) {
      const picked = Array.from({ length: 100_000 }, (_, id) => isLate(7, id, fraction)).filter(Boolean).length;
      expect(Math.abs(picked / 100_000 - fraction)).toBeLessThan(0.01);
    }
    const first = Array.from({ length: 1_000 }, (_, id) => isLate(1, id, 0.1));
    const second = Array.from({ length: 1_000 }, (_, id) => isLate(2, id, 0.1));
    expect(first).not.toEqual(second);
    expect(Array.from({ length: 1_000 }, (_, id) => isLate(1, id, 0.1))).toEqual(first);
  });
});
