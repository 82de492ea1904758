import { describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '../model/enriched-event.js';
import { classify, type ClassifyContext } from './batch-plan.js';

const EVENT: EnrichedEvent = {
  time: '2026-11-22 20:31:07',
  user_id: 1,
  user_name: 'Kim',
  dept_name: 'Data',
  gender: 'M',
  age: 2,
  hello: 'x',
  id: 1,
};
const SEOUL: ClassifyContext = {
  timeZone: 'Asia/Seoul',
  dims: ['user'],
  window: { sizeMs: 10_000, slideMs: 10_000 },
  timestampMs: Date.parse('2026-11-22T11:31:07Z'),
  maxFutureMs: 3_600_000,
};
const ok = (value: EnrichedEvent) => ({ ok: true as const, value, schemaId: 1 });

describe('classify (the aggregator’s bad records, SPEC §1.3)', () => {
  it('counts an event within max-future of its record timestamp', () => {
    expect(classify(ok(EVENT), SEOUL)).toEqual({
      kind: 'event',
      event: { time: Date.parse('2026-11-22T11:31:07Z'), keys: { user: 'Kim' } },
    });
  });

  it('makes a time further ahead of its record timestamp a bad record (future-time)', () => {
    expect(classify(ok({ ...EVENT, time: '9999-12-31 23:59:59' }), SEOUL)).toMatchObject({
      kind: 'bad',
      reason: 'future-time',
      detail: expect.stringMatching(/"9999-12-31 23:59:59" in Asia\/Seoul: time is .* ahead/) as unknown,
    });
    expect(classify(ok(EVENT), { ...SEOUL, timestampMs: SEOUL.timestampMs - 3_600_001 })).toMatchObject({
      reason: 'future-time',
    });
  });

  it('makes an event whose window would end after 9999-12-31 23:59:59.999 UTC a bad record', () => {
    const top = { ...SEOUL, timeZone: 'UTC', timestampMs: Date.UTC(9999, 11, 31, 23, 59, 59) };
    expect(classify(ok({ ...EVENT, time: '9999-12-31 23:59:49' }), top).kind).toBe('event');
    expect(classify(ok({ ...EVENT, time: '9999-12-31 23:59:59' }), top)).toMatchObject({
      kind: 'bad',
      reason: 'window-out-of-range',
      detail: expect.stringMatching(/after 9999-12-31 23:59:59\.999 UTC/) as unknown,
    });
    // West of UTC the wall clock ends earlier: 9999-12-31 16:00 in Los Angeles is already 10000-01-01.
    expect(
      classify(ok({ ...EVENT, time: '9999-12-31 16:00:00' }), { ...top, timeZone: 'America/Los_Angeles' }),
    ).toMatchObject({ reason: 'window-out-of-range' });
  });

  it('makes an event whose window would start before 1000-01-01 UTC a bad record', () => {
    // 1000-01-01 08:00 in Seoul (local mean time, +8:27:52) is 0999-12-31 23:32:08 UTC.
    expect(classify(ok({ ...EVENT, time: '1000-01-01 08:00:00' }), SEOUL)).toMatchObject({
      reason: 'window-out-of-range',
    });
  });
});
