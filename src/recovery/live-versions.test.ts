import { describe, expect, it } from 'vitest';
import type { VersionRecord } from './catalog.js';
import { liveVersions } from './live-versions.js';

const fresh = {
  settings: { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 },
  dims: ['user'] as const,
  topic: 'events_stages',
};
const record = (
  version: string,
  state: VersionRecord['state'],
  delayMs: number,
  topic = 'events_stages',
): VersionRecord => ({
  version,
  settings: { sizeMs: 10_000, slideMs: 10_000, delayMs },
  dims: ['user', 'dept', 'age'],
  state,
  topic,
  tzVersion: null,
});

describe('liveVersions: what kappa up aggregates', () => {
  it('a fresh machine: v1 with the configured settings', () => {
    expect(liveVersions([], undefined, fresh)).toEqual([{ version: 'v1', ...fresh }]);
  });

  it('after a cutover: the serving version with its recorded settings, not the retired one', () => {
    const records = [record('v1', 'retired', 15_000), record('v2', 'serving', 60_000)];
    expect(liveVersions(records, 'v2', fresh)).toEqual([
      {
        version: 'v2',
        settings: { sizeMs: 10_000, slideMs: 10_000, delayMs: 60_000 },
        dims: ['user', 'dept', 'age'],
        topic: 'events_stages',
      },
    ]);
  });

  it('keeps caught-up candidates on the same log fed; not catching-up ones, nor other logs', () => {
    const records = [
      record('v1', 'serving', 15_000),
      record('v2', 'caught-up', 60_000),
      record('v3', 'backlog-done', 60_000),
      record('v4', 'catching-up', 60_000),
      record('v5', 'caught-up', 60_000, 'events_stages_v5'),
      record('v6', 'shadow', 60_000),
      record('v7', 'retired', 60_000),
    ];
    expect(liveVersions(records, 'v1', fresh).map((entry) => entry.version)).toEqual(['v1', 'v2', 'v3', 'v6']);
  });
});
