import { describe, expect, it } from 'vitest';
import { isBacklog, LIVE_LAG_RECORDS } from './backlog.js';

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
