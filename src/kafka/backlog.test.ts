import { describe, expect, it } from 'vitest';
import { batchEnd, isBacklog, LIVE_LAG_RECORDS } from './backlog.js';

describe('batchEnd', () => {
  it('is one past the last offset, undefined for an empty batch', () => {
    expect(batchEnd({ firstOffset: () => '5', lastOffset: () => '9' })).toBe(10n);
    expect(batchEnd({ firstOffset: () => null, lastOffset: () => '4' })).toBeUndefined();
  });
});

describe('isBacklog', () => {
  it('is a backlog only beyond LIVE_LAG_RECORDS behind the end', () => {
    expect(isBacklog(100n, 100n)).toBe(false);
    expect(isBacklog(100n, (100n + LIVE_LAG_RECORDS).toString())).toBe(false);
    expect(isBacklog(100n, 101n + LIVE_LAG_RECORDS)).toBe(true);
    expect(isBacklog(undefined, 1_000_000n)).toBe(false);
    // A high watermark below the batch's end (a stale answer) is no backlog.
    expect(isBacklog(500n, 100n)).toBe(false);
  });
});
