import type { WindowSettings } from '../model/window-settings.js';
import type { VersionState } from './catalog.js';

/** What `recover --plan` predicted for a version (issue 26), as recorded. */
export interface PlannedFigures {
  readonly atMs: number;
  /** Records of the source topic the plan read (the log may have grown since). */
  readonly records: number;
  /** Late events the version will count over those records; null: not planned (a full chain's). */
  readonly expectedLate: number | null;
  /** The serving version the plan compared with, and the late events the candidate will recover from it. */
  readonly comparedWith: string | null;
  readonly expectedRecovered: number | null;
  /** The plan's estimated duration of the whole replay, from a measured sample. */
  readonly estimateSeconds: number | null;
}

/** What `recover` recorded when it started: the records it has to read, from where it stood. */
export interface StartedFigures {
  readonly atMs: number;
  /** The source topic's end offsets, summed, when the replay started. */
  readonly records: number;
  /** The version's committed offsets, summed, when the replay started (a resumed replay). */
  readonly doneAtStart: number;
}

/** A row of `kappa_replay_plans`. */
export interface StoredPlan {
  readonly version: string;
  readonly stagesTopic: string;
  /** The topic the replay reads from offset 0: the stages topic, or a full chain's raw topic. */
  readonly sourceTopic: string;
  readonly settings: WindowSettings;
  readonly planned: PlannedFigures | null;
  readonly started: StartedFigures | null;
}

/** A plan's figures for the topics and settings a replay starts with: kept only when planned for the same. */
export function plannedFor(
  stored: StoredPlan | undefined,
  replay: Pick<StoredPlan, 'stagesTopic' | 'sourceTopic' | 'settings'>,
): PlannedFigures | null {
  if (stored?.planned === undefined || stored.planned === null) return null;
  const same =
    stored.stagesTopic === replay.stagesTopic &&
    stored.sourceTopic === replay.sourceTopic &&
    stored.settings.sizeMs === replay.settings.sizeMs &&
    stored.settings.slideMs === replay.settings.slideMs &&
    stored.settings.delayMs === replay.settings.delayMs;
  return same ? stored.planned : null;
}

/** The plan of a version as `status --json`, the versions API and the dashboard show it. */
export interface VersionPlan {
  /** Records to replay (the source topic's end offsets when `recover` started); null: not started by `recover`. */
  readonly records: number | null;
  readonly startedAt: string | null;
  /** Records per second since the replay started, measured from the version's progress. */
  readonly ratePerSecond: number | null;
  /** Seconds left: from the measured rate, else from the plan's estimate; 0 once caught up; null: unknown. */
  readonly etaSeconds: number | null;
  readonly plannedAt: string | null;
  readonly plannedRecords: number | null;
  readonly expectedLate: number | null;
  readonly comparedWith: string | null;
  readonly expectedRecovered: number | null;
  readonly estimateSeconds: number | null;
}

/** Where a version stands, from `status`. */
export interface PlanProgressInput {
  readonly state: VersionState;
  /** Records consumed (committed offsets, summed). */
  readonly processed: number;
  readonly lag: number;
}

const tenths = (value: number) => Math.round(value * 10) / 10;

/**
 * The ETA of a catching-up version: what is left (its lag, or the records the replay had to read
 * that it has not consumed yet, whichever is more: a full chain's stages topic is still filling)
 * at the rate measured since the replay started; before its first commit, the plan's estimate less
 * the time gone.
 */
export function planProgress(plan: StoredPlan, now: PlanProgressInput, nowMs: number): VersionPlan {
  const { planned, started } = plan;
  let ratePerSecond: number | null = null;
  let etaSeconds: number | null = null;
  if (now.state !== 'catching-up') etaSeconds = 0;
  else if (started !== null) {
    const elapsedS = Math.max(0, (nowMs - started.atMs) / 1_000);
    const done = now.processed - started.doneAtStart;
    const remaining = Math.max(now.lag, started.records - now.processed, 0);
    if (done > 0 && elapsedS > 0) {
      ratePerSecond = Math.round(done / elapsedS);
      etaSeconds = tenths(remaining / (done / elapsedS));
    } else if (typeof planned?.estimateSeconds === 'number')
      etaSeconds = tenths(Math.max(0, planned.estimateSeconds - elapsedS));
  }
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    records: started?.records ?? null,
    startedAt: iso(started?.atMs),
    ratePerSecond,
    etaSeconds,
    plannedAt: iso(planned?.atMs),
    plannedRecords: planned?.records ?? null,
    expectedLate: planned?.expectedLate ?? null,
    comparedWith: planned?.comparedWith ?? null,
    expectedRecovered: planned?.expectedRecovered ?? null,
    estimateSeconds: planned?.estimateSeconds ?? null,
  };
}
