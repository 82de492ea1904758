import { describe, expect, it } from 'vitest';
import { DIMENSION_SPECS, DIMENSIONS, keyOf, keyProblem } from './dimensions.js';
import { settingsMismatch, versionSettings, type RecordedSettings } from './version-settings.js';

const CONFIG = {
  window: 10_000,
  slide: 10_000,
  watermarkDelay: 15_000,
  dims: ['user', 'dept', 'age'],
  timeZone: 'Asia/Seoul',
  topicStages: 'events_stages',
} as const;

const wanted = versionSettings(CONFIG);

const recorded: RecordedSettings = {
  window: wanted.window,
  dims: 'user,dept,age',
  timeZone: 'Asia/Seoul',
  stagesTopic: 'events_stages',
  sink: 'mysql',
  maxFutureMs: 3_600_000,
};

describe('settingsMismatch: a version is all of its settings', () => {
  it('accepts the recorded settings, and takes settings an older kappa did not record from the start', () => {
    expect(settingsMismatch('v1', recorded, wanted)).toBeUndefined();
    expect(
      settingsMismatch('v1', { ...recorded, timeZone: null, stagesTopic: null, sink: null, maxFutureMs: null }, wanted),
    ).toBeUndefined();
  });

  it.each([
    ['window', { window: { ...wanted.window, sizeMs: 60_000 } }, /window 60s, not 10s.*--window 60s/],
    ['slide', { window: { ...wanted.window, slideMs: 5_000 } }, /slide 5s, not 10s.*--slide 5s/],
    ['watermark', { window: { ...wanted.window, delayMs: 3_600_000 } }, /watermark 3600s.*--watermark 3600s/],
    ['dims', { dims: 'user' }, /dims user, not user,dept,age.*--dims user\b/],
    ['time zone', { timeZone: 'UTC' }, /time zone UTC, not Asia\/Seoul.*--time-zone UTC/],
    ['stages topic', { stagesTopic: 'other' }, /stages topic other.*--stages-topic other/],
    ['sink', { sink: 'mongodb' }, /sink mongodb, not mysql.*--sink mongodb/],
    // KAPPA_MAX_FUTURE decides which records are future-time (bad): a replay with another bound counts others.
    ['max future', { maxFutureMs: 7_200_000 }, /max future 7200s, not 3600s.*--max-future 7200s/],
  ] as const)('refuses another %s, naming it, its recorded value and the flag', (_, change, message) => {
    const problem = settingsMismatch('v1', { ...recorded, ...change }, wanted);
    expect(problem).toMatch(message);
    expect(problem).toMatch(/new version \(e\.g\. kappa recover --to v2\)/);
  });
});

describe('versionSettings', () => {
  it('takes KAPPA_MAX_FUTURE (default 1 h): it decides which records count', () => {
    expect(wanted.maxFutureMs).toBe(3_600_000);
    expect(versionSettings({ ...CONFIG, maxFuture: 60_000 }).maxFutureMs).toBe(60_000);
  });
});

describe('dimensions: each defined once', () => {
  const event = {
    time: '2026-11-22 20:31:07',
    user_id: 1,
    user_name: 'Lee',
    dept_name: 'Data',
    gender: '여성',
    age: 42,
    hello: 'x',
    id: 41,
  };

  it('gives every dimension its own key, table, column and API segment (gender included)', () => {
    expect(DIMENSIONS.map((dim) => keyOf(dim, event))).toEqual(['Lee', 'Data', '42', '여성']);
    expect(DIMENSION_SPECS.gender.table).toBe('events_genders');
    expect(new Set(DIMENSIONS.map((dim) => DIMENSION_SPECS[dim].table)).size).toBe(DIMENSIONS.length);
    expect(new Set(DIMENSIONS.map((dim) => DIMENSION_SPECS[dim].segment)).size).toBe(DIMENSIONS.length);
  });

  it('refuses keys longer than their column', () => {
    expect(keyProblem('user', 'K'.repeat(191))).toBeUndefined();
    expect(keyProblem('user', '김'.repeat(191))).toBeUndefined();
    expect(keyProblem('user', 'K'.repeat(192))).toMatch(/192 characters long; its column holds 191/);
    expect(keyProblem('age', '9'.repeat(300))).toBeUndefined();
  });
});
