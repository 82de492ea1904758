import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { endOffsets, groupMembers } from '../kafka/offsets.js';
import { KappaError } from '../shared/errors.js';
import { jobNames, type Dimension } from '../aggregates/job-names.js';
import type { Catalog, VersionRecord, VersionState } from './catalog.js';
import { catchUpProblem, diffTables, lagOf, type PartitionOffsets, type TableDiff } from './catch-up.js';
import { planProgress, type VersionPlan } from './plan-progress.js';
import { behindAdvice, type Feeders } from './refusal-advice.js';
import { closedInBoth } from './verify.js';

export interface SwitchResult {
  readonly from: string | undefined;
  readonly to: string;
  /** Nothing to do: `to` was already serving. */
  readonly unchanged: boolean;
}

/**
 * Whether `to` may serve now: undefined when it already does or has caught up (with the serving
 * version, partition by partition, or with its own log when nothing on its topic serves), else why not.
 */
export async function cutoverProblem(
  catalog: Catalog,
  admin: Admin,
  to: string,
): Promise<{ readonly candidate: VersionRecord; readonly current: string | undefined; readonly problem?: string }> {
  const candidate = await catalog.version(to);
  const current = await catalog.serving();
  if (current === to) return { candidate, current };
  const serving = current === undefined ? undefined : await catalog.version(current);
  const problem = catchUpProblem(
    { version: to, topic: candidate.topic, progress: await catalog.offsets(to, candidate.topic) },
    serving === undefined
      ? undefined
      : {
          version: serving.version,
          topic: serving.topic,
          progress: await catalog.offsets(serving.version, serving.topic),
        },
    await endOffsets(admin, candidate.topic),
  );
  return { candidate, current, ...(problem === undefined ? {} : { problem }) };
}

export interface CutoverOptions {
  /** How long to wait for the version to catch up before refusing (`kappa cutover --wait 2m`); 0: refuse at once. */
  readonly waitMs?: number;
  /** How often to check while waiting (default 1 s). */
  readonly checkEveryMs?: number;
  /** Stops the wait (Ctrl-C): refused as if the time were up. */
  readonly signal?: AbortSignal;
  /** Told at every check while waiting why the version may not serve yet. */
  readonly onWaiting?: (problem: string) => void;
}

/** Who feeds `version` now (its aggregator's consumer group members); undefined when Kafka cannot say. */
async function feedersOf(admin: Admin, version: VersionRecord): Promise<Feeders | undefined> {
  const group = jobNames(version.version).consumerGroup(version.topic);
  return groupMembers(admin, group).then(
    (members) => ({ group, members }),
    () => undefined,
  );
}

/**
 * `kappa cutover --to vN`: refuses until vN has caught up — at once, or after waiting up to
 * `waitMs` for it — then switches the views and the serving version in one RENAME TABLE (refused
 * when vN lacks a dimension whose view exists). A refusal says whether anything feeds vN and what
 * to run.
 */
export async function cutover(
  catalog: Catalog,
  admin: Admin,
  to: string,
  options: CutoverOptions = {},
): Promise<SwitchResult> {
  const waitMs = options.waitMs ?? 0;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { candidate, current, problem } = await cutoverProblem(catalog, admin, to);
    if (current === to) return { from: current, to, unchanged: true };
    if (problem === undefined) {
      await catalog.switchTo(candidate, current);
      return { from: current, to, unchanged: false };
    }
    const left = deadline - Date.now();
    if (left <= 0 || options.signal?.aborted === true) {
      const feeders = await feedersOf(admin, candidate);
      throw new KappaError(
        'KAPPA_CUTOVER_REFUSED',
        `cutover to ${to} refused${waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1_000)} s` : ''}: ${problem}` +
          (feeders === undefined ? '' : `; ${behindAdvice(candidate, feeders)}`),
      );
    }
    options.onWaiting?.(problem);
    await sleep(Math.min(options.checkEveryMs ?? 1_000, left), undefined, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }).catch(() => undefined);
  }
}

/** `kappa rollback`: back to the version that served before the current one, without a catch-up check. */
export async function rollback(catalog: Catalog): Promise<SwitchResult> {
  const history = await catalog.servingHistory();
  const current = history[0];
  const previous = history.find((version) => version !== current);
  if (current === undefined || previous === undefined)
    throw new KappaError(
      'KAPPA_ROLLBACK_REFUSED',
      current === undefined
        ? 'nothing serves yet: there is nothing to roll back'
        : `${current} is the only version that ever served: there is nothing to roll back to`,
    );
  await catalog.switchTo(await catalog.version(previous), current, 'KAPPA_ROLLBACK_REFUSED');
  return { from: current, to: previous, unchanged: false };
}

export interface VersionDiff {
  readonly from: string;
  readonly to: string;
  readonly tables: Readonly<Partial<Record<Dimension, TableDiff>>>;
  readonly lateFrom: number;
  readonly lateTo: number;
  /** Late events of `from` that `to` counted: lateFrom − lateTo. */
  readonly lateRecovered: number;
}

/**
 * `kappa diff vA vB`: per dimension both have, over the windows closed in both versions, the
 * windows that differ, rows only in one and totals; windows still open in either are counted
 * apart (SPEC §1.4); and the late events recovered.
 */
export async function diffVersions(catalog: Catalog, from: string, to: string): Promise<VersionDiff> {
  const [a, b] = [await catalog.version(from), await catalog.version(to)];
  const closed = await closedInBoth(catalog, a, b);
  const tables: Partial<Record<Dimension, TableDiff>> = {};
  for (const dim of a.dims.filter((entry) => b.dims.includes(entry)))
    tables[dim] = diffTables(await catalog.table(from, dim), await catalog.table(to, dim), closed);
  const [lateFrom, lateTo] = [await catalog.lateEvents(from), await catalog.lateEvents(to)];
  return { from, to, tables, lateFrom, lateTo, lateRecovered: lateFrom - lateTo };
}

export interface VersionStatus {
  readonly version: string;
  readonly state: VersionState;
  readonly serving: boolean;
  readonly topic: string;
  readonly settings: VersionRecord['settings'];
  readonly dims: readonly Dimension[];
  readonly lag: number;
  readonly processed: number;
  /** The lowest partition watermark (the version's event-time progress), null before any event. */
  readonly watermark: string | null;
  readonly lateEvents: number;
  /** (event, window) misses: with hopping windows an event may miss only some of its windows. */
  readonly lateWindows: number;
  /** Records the aggregator could not use, counted once per version (dead-lettered). */
  readonly badRecords: number;
  /** The tz database release it was created with; null: unknown (created before kappa recorded it). */
  readonly tzVersion: string | null;
  /** Its replay plan and ETA, when `recover` (and `recover --plan`) recorded one (issue 26). */
  readonly plan?: VersionPlan;
}

/**
 * What `status` shows: the pointer decides who serves (the states are written just after the switch);
 * `caught-up` means no lag now, `backlog-done` that a replay consumed what the log held when it
 * started but the log has grown since.
 */
export function displayedState(stored: VersionState, serving: boolean, noLagNow: boolean): VersionState {
  if (serving) return 'serving';
  if (stored === 'serving' || stored === 'retired') return 'retired';
  if (stored === 'shadow') return 'shadow';
  if (noLagNow) return 'caught-up';
  return stored === 'catching-up' ? 'catching-up' : 'backlog-done';
}

/** `kappa status`: per version, its state, lag, watermark and late count. */
export async function versionStatus(catalog: Catalog, admin: Admin): Promise<VersionStatus[]> {
  const serving = await catalog.serving();
  const ends = new Map<string, PartitionOffsets>();
  const statuses: VersionStatus[] = [];
  const plans = await catalog.plans();
  for (const record of await catalog.versions()) {
    if (!ends.has(record.topic)) ends.set(record.topic, await endOffsets(admin, record.topic));
    const progress = await catalog.progress(record.version, record.topic);
    const lag = lagOf(ends.get(record.topic) ?? new Map(), new Map(progress.map((row) => [row.partition, row.next])));
    const watermarks = progress.map((row) => row.watermark).filter((value): value is number => value !== null);
    const state = displayedState(record.state, record.version === serving, lag.lag === 0n && lag.total > 0n);
    const plan = plans.get(record.version);
    statuses.push({
      version: record.version,
      state,
      serving: record.version === serving,
      topic: record.topic,
      settings: record.settings,
      dims: record.dims,
      lag: Number(lag.lag),
      processed: Number(lag.done),
      watermark: watermarks.length === 0 ? null : new Date(Math.min(...watermarks)).toISOString(),
      lateEvents: progress.reduce((sum, row) => sum + row.late, 0),
      lateWindows: progress.reduce((sum, row) => sum + row.lateWindows, 0),
      badRecords: progress.reduce((sum, row) => sum + row.badRecords, 0),
      tzVersion: record.tzVersion,
      ...(plan === undefined
        ? {}
        : { plan: planProgress(plan, { state, processed: Number(lag.done), lag: Number(lag.lag) }, Date.now()) }),
    });
  }
  return statuses;
}
