import { describe, expect, it } from 'vitest';
import { countIncident, incidentCounts } from './incidents.js';

describe('incident counts', () => {
  it('adds up per kind and name', () => {
    countIncident('retry', 'test-a');
    countIncident('retry', 'test-a', 2);
    countIncident('swallowed', 'test-a');
    const mine = incidentCounts().filter((entry) => entry.what === 'test-a');
    expect(mine).toEqual([
      { kind: 'retry', what: 'test-a', count: 3 },
      { kind: 'swallowed', what: 'test-a', count: 1 },
    ]);
  });
});
