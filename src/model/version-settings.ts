import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import { DEFAULT_DIMS, isDimension, type Dimension } from './dimensions.js';
import type { WindowSettings } from './window-settings.js';

/** The stores a version's rows can go to (aggregates/mysql-sink.ts, aggregates/mongo-sink.ts). */
export const SINKS = ['mysql', 'mongodb'] as const;
export type SinkKind = (typeof SINKS)[number];

/**
 * All that a version's tables depend on (SPEC §1.3): recorded when the version is created, never
 * changed. `kappa up`, `kappa aggregate` and `kappa recover` all build it with `versionSettings`.
 */
export interface VersionSettings {
  readonly window: WindowSettings;
  readonly dims: readonly Dimension[];
  readonly timeZone: string;
  readonly stagesTopic: string;
  readonly sink: SinkKind;
  /**
   * KAPPA_MAX_FUTURE: a record whose time is further ahead of its record timestamp is bad
   * (`future-time`): which records count depends on it, so a version keeps the one it started with.
   */
  readonly maxFutureMs: number;
}

/** The configuration a version's settings come from (the names of config/settings.ts). */
export interface VersionConfig {
  readonly window: number;
  readonly slide: number;
  readonly watermarkDelay: number;
  readonly dims?: readonly Dimension[];
  readonly timeZone: string;
  readonly topicStages: string;
  readonly sink?: SinkKind;
  readonly maxFuture?: number;
}

export function versionSettings(config: VersionConfig): VersionSettings {
  return Object.freeze({
    window: Object.freeze({ sizeMs: config.window, slideMs: config.slide, delayMs: config.watermarkDelay }),
    dims: Object.freeze([...(config.dims ?? DEFAULT_DIMS)]),
    timeZone: config.timeZone,
    stagesTopic: config.topicStages,
    sink: config.sink ?? 'mysql',
    maxFutureMs: config.maxFuture ?? DEFAULT_MAX_FUTURE_MS,
  });
}

/** A version's settings as its store recorded them: older versions lack the later columns (null). */
export interface RecordedSettings {
  readonly window: WindowSettings;
  readonly dims: string;
  readonly timeZone: string | null;
  readonly stagesTopic: string | null;
  readonly sink: string | null;
  readonly maxFutureMs: number | null;
}

/**
 * A version as its store records it: a `kappa_versions` row (MySQL) or document (MongoDB), with
 * the same names in both. Mind the names: `watermark_ms` here is the watermark *delay* (a
 * setting), while `kappa_progress.watermark_ms` is a partition's watermark *position* in event
 * time. The stored names stay; in code the delay is `delayMs` and the position `watermark`.
 */
export interface VersionRow {
  readonly window_ms: unknown;
  readonly slide_ms: unknown;
  readonly watermark_ms: unknown;
  readonly dims: unknown;
  /** Null or absent in versions created by an older kappa, like the two below. */
  readonly stages_topic?: unknown;
  readonly time_zone?: unknown;
  readonly sink?: unknown;
  readonly max_future_ms?: unknown;
}

/** The window settings a version's row records. */
export function windowOfRow(row: Pick<VersionRow, 'window_ms' | 'slide_ms' | 'watermark_ms'>): WindowSettings {
  return { sizeMs: Number(row.window_ms), slideMs: Number(row.slide_ms), delayMs: Number(row.watermark_ms) };
}

/** All the settings a version's row records (null: not recorded yet). */
export function recordedSettingsOfRow(row: VersionRow): RecordedSettings {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    window: windowOfRow(row),
    dims: String(row.dims),
    timeZone: text(row.time_zone),
    stagesTopic: text(row.stages_topic),
    sink: text(row.sink),
    maxFutureMs: row.max_future_ms === null || row.max_future_ms === undefined ? null : Number(row.max_future_ms),
  };
}

/** The row a version's settings are recorded as (the inverse of recordedSettingsOfRow). */
export function versionRowOf(settings: VersionSettings) {
  return {
    window_ms: settings.window.sizeMs,
    slide_ms: settings.window.slideMs,
    watermark_ms: settings.window.delayMs,
    dims: settings.dims.join(','),
    stages_topic: settings.stagesTopic,
    time_zone: settings.timeZone,
    sink: settings.sink,
    max_future_ms: settings.maxFutureMs,
  } as const satisfies VersionRow;
}

interface Comparison {
  readonly setting: string;
  readonly flag: string;
  readonly recorded: string | null;
  readonly wanted: string;
  readonly format: (value: string) => string;
}

const ms = (value: string) => `${Number(value) / 1_000}s`;

function comparisons(recorded: RecordedSettings, wanted: VersionSettings): readonly Comparison[] {
  const same = (value: string) => value;
  return [
    {
      setting: 'window',
      flag: '--window',
      recorded: String(recorded.window.sizeMs),
      wanted: String(wanted.window.sizeMs),
      format: ms,
    },
    {
      setting: 'slide',
      flag: '--slide',
      recorded: String(recorded.window.slideMs),
      wanted: String(wanted.window.slideMs),
      format: ms,
    },
    {
      setting: 'watermark',
      flag: '--watermark',
      recorded: String(recorded.window.delayMs),
      wanted: String(wanted.window.delayMs),
      format: ms,
    },
    { setting: 'dims', flag: '--dims', recorded: recorded.dims, wanted: wanted.dims.join(','), format: same },
    { setting: 'time zone', flag: '--time-zone', recorded: recorded.timeZone, wanted: wanted.timeZone, format: same },
    {
      setting: 'stages topic',
      flag: '--stages-topic',
      recorded: recorded.stagesTopic,
      wanted: wanted.stagesTopic,
      format: same,
    },
    { setting: 'sink', flag: '--sink', recorded: recorded.sink, wanted: wanted.sink, format: same },
    {
      setting: 'max future',
      flag: '--max-future',
      recorded: recorded.maxFutureMs === null ? null : String(recorded.maxFutureMs),
      wanted: String(wanted.maxFutureMs),
      format: ms,
    },
  ];
}

/**
 * The first setting of `wanted` that differs from what the version recorded, as one line that
 * names it, the recorded value and the flag to use; undefined when they agree. A setting the
 * version did not record yet (null: created by an older kappa) is taken from `wanted`.
 */
export function settingsMismatch(
  version: string,
  recorded: RecordedSettings,
  wanted: VersionSettings,
): string | undefined {
  for (const { setting, flag, recorded: was, wanted: asked, format } of comparisons(recorded, wanted)) {
    if (was === null || was === asked) continue;
    return `job version ${version} was created with ${setting} ${format(was)}, not ${format(asked)}: a version's settings never change — start it with ${flag} ${format(was)}, or create a new version (e.g. kappa recover --to v${Number(version.slice(1)) + 1})`;
  }
  return undefined;
}

/** `user,dept,age` as recorded → the dimensions (unknown names dropped). */
export function parseDims(text: string): Dimension[] {
  return text.split(',').filter(isDimension);
}
