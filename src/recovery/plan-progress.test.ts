import { describe, expect, it } from 'vitest';
import { plannedFor, planProgress, type StoredPlan } from './plan-progress.js';

const SETTINGS = { sizeMs: 10_000, slideMs: 10_000, delayMs: 60_000 };
const PLANNED = {
  atMs: Date.UTC(2026, 11, 5, 8, 0),
  records: 1_000,
  expectedLate: 40,
  comparedWith: 'v1',
  expectedRecovered: 60,
  estimateSeconds: 20,
};
const STARTED_AT = Date.UTC(2026, 11, 5, 8, 1);
const PLAN: StoredPlan = {
  version: 'v2',
  stagesTopic: 'stages',
  sourceTopic: 'stages',
  settings: SETTINGS,
  planned: PLANNED,
  started: { atMs: STARTED_AT, records: 1_000, doneAtStart: 0 },
};

describe('planProgress: the ETA and plan the dashboard shows for a candidate', () => {
  it('measures the rate since the start and divides what is left by it', () => {
    const shown = planProgress(PLAN, { state: 'catching-up', processed: 250, lag: 750 }, STARTED_AT + 5_000);
    expect(shown).toMatchObject({ records: 1_000, ratePerSecond: 50, etaSeconds: 15, expectedRecovered: 60 });
    expect(shown.startedAt).toBe(new Date(STARTED_AT).toISOString());
  });

  it("before the first commit, the plan's estimate less the time gone", () => {
    const shown = planProgress(PLAN, { state: 'catching-up', processed: 0, lag: 1_000 }, STARTED_AT + 4_000);
    expect(shown).toMatchObject({ ratePerSecond: null, etaSeconds: 16 });
    const unplanned = planProgress({ ...PLAN, planned: null }, { state: 'catching-up', processed: 0, lag: 1_000 }, 0);
    expect(unplanned).toMatchObject({ etaSeconds: null, expectedRecovered: null, records: 1_000 });
  });

  it('a resumed replay counts only what it consumed since it started; a still-filling stages topic is not the end', () => {
    const resumed = { ...PLAN, started: { atMs: STARTED_AT, records: 1_000, doneAtStart: 600 } };
    expect(
      planProgress(resumed, { state: 'catching-up', processed: 800, lag: 200 }, STARTED_AT + 10_000),
    ).toMatchObject({
      ratePerSecond: 20,
      etaSeconds: 10,
    });
    // A full chain: the stages topic holds 300 so far (lag 100) but 1,000 records are to be read.
    expect(planProgress(PLAN, { state: 'catching-up', processed: 200, lag: 100 }, STARTED_AT + 10_000)).toMatchObject({
      etaSeconds: 40,
    });
  });

  it('nothing left once it has caught up', () => {
    for (const state of ['caught-up', 'backlog-done', 'shadow'] as const)
      expect(planProgress(PLAN, { state, processed: 1_000, lag: 0 }, STARTED_AT + 9_000).etaSeconds).toBe(0);
  });
});

describe('plannedFor: a plan counts only for the topics and settings it was made for', () => {
  const key = { stagesTopic: 'stages', sourceTopic: 'stages', settings: SETTINGS };
  it('keeps the same, drops another watermark or a full chain', () => {
    expect(plannedFor(PLAN, key)).toBe(PLANNED);
    expect(plannedFor(PLAN, { ...key, settings: { ...SETTINGS, delayMs: 30_000 } })).toBeNull();
    expect(plannedFor(PLAN, { ...key, sourceTopic: 'events' })).toBeNull();
    expect(plannedFor(undefined, key)).toBeNull();
  });
});
