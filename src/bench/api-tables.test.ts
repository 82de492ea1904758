import { describe, expect, it } from 'vitest';
import { replayedWindows } from './api-tables.js';

describe('replayedWindows (the API row’s tables without a replay)', () => {
  it('counts every event once per dimension, in the windows of the aggregate row’s replay', () => {
    const windows = replayedWindows(1_000_000, 10_000);
    for (const rows of windows.values()) expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(1_000_000);
    expect(new Set(windows.get('user')?.map((row) => row.key))).toEqual(new Set(['Kim', 'Lee', 'Unknown Name']));
    expect(windows.get('user')).toHaveLength(300);
    expect(windows.get('dept')).toHaveLength(200);
    expect(windows.get('age')).toHaveLength(10_000);
    expect(new Set(windows.get('age')?.map((row) => row.start)).size).toBe(100);
  });
});
