import { describe, expect, it } from 'vitest';
import { describeTzDrift, runningTzVersion, tzDrift } from './tz-database.js';

describe('tzDrift', () => {
  it('is the running Node’s release (process.versions.tz)', () => {
    expect(runningTzVersion()).toBe(process.versions.tz);
  });

  it('reports a version whose recorded release differs from the running one', () => {
    expect(tzDrift('v2', '2019a', '2025c')).toEqual({ version: 'v2', recorded: '2019a', running: '2025c' });
    expect(describeTzDrift({ version: 'v2', recorded: '2019a', running: '2025c' })).toMatch(
      /^job version v2 was created with time-zone database 2019a, this Node has 2025c: /,
    );
  });

  it('says nothing when they agree or the release is unknown (a version created before it was recorded)', () => {
    expect(tzDrift('v1', '2025c', '2025c')).toBeUndefined();
    expect(tzDrift('v1', null, '2025c')).toBeUndefined();
  });
});
