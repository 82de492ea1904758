import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { WindowSettings } from '../model/window-settings.js';
import { plannedFor, type PlannedFigures, type StartedFigures, type StoredPlan } from './plan-progress.js';

/** The topics and settings a plan or a replay is for. */
export interface PlanKey {
  readonly version: string;
  readonly stagesTopic: string;
  readonly sourceTopic: string;
  readonly settings: WindowSettings;
}

const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function fromRow(row: RowDataPacket): StoredPlan {
  const plannedAt = nullable(row['planned_at_ms']);
  const startedAt = nullable(row['started_at_ms']);
  return {
    version: String(row['version']),
    stagesTopic: String(row['stages_topic']),
    sourceTopic: String(row['source_topic']),
    settings: {
      sizeMs: Number(row['window_ms']),
      slideMs: Number(row['slide_ms']),
      delayMs: Number(row['watermark_ms']),
    },
    planned:
      plannedAt === null
        ? null
        : {
            atMs: plannedAt,
            records: Number(row['planned_records'] ?? 0),
            expectedLate: nullable(row['expected_late']),
            comparedWith: typeof row['compared_with'] === 'string' ? row['compared_with'] : null,
            expectedRecovered: nullable(row['expected_recovered']),
            estimateSeconds: nullable(row['estimate_seconds']),
          },
    started:
      startedAt === null
        ? null
        : {
            atMs: startedAt,
            records: Number(row['started_records'] ?? 0),
            doneAtStart: Number(row['done_at_start'] ?? 0),
          },
  };
}

/** Every recorded plan (migration 9), by version. */
export async function readPlans(pool: Pool): Promise<Map<string, StoredPlan>> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT * FROM kappa_replay_plans');
  return new Map(rows.map((row) => [String(row['version']), fromRow(row)]));
}

async function write(pool: Pool, key: PlanKey, planned: PlannedFigures | null, started: StartedFigures | null) {
  const values = [
    key.stagesTopic,
    key.sourceTopic,
    key.settings.sizeMs,
    key.settings.slideMs,
    key.settings.delayMs,
    planned?.atMs ?? null,
    planned?.records ?? null,
    planned?.expectedLate ?? null,
    planned?.comparedWith ?? null,
    planned?.expectedRecovered ?? null,
    planned?.estimateSeconds ?? null,
    started?.atMs ?? null,
    started?.records ?? null,
    started?.doneAtStart ?? null,
  ];
  await pool.query(
    `INSERT INTO kappa_replay_plans (version, stages_topic, source_topic, window_ms, slide_ms, watermark_ms,
       planned_at_ms, planned_records, expected_late, compared_with, expected_recovered, estimate_seconds,
       started_at_ms, started_records, done_at_start)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE stages_topic = VALUES(stages_topic), source_topic = VALUES(source_topic),
       window_ms = VALUES(window_ms), slide_ms = VALUES(slide_ms), watermark_ms = VALUES(watermark_ms),
       planned_at_ms = VALUES(planned_at_ms), planned_records = VALUES(planned_records),
       expected_late = VALUES(expected_late), compared_with = VALUES(compared_with),
       expected_recovered = VALUES(expected_recovered), estimate_seconds = VALUES(estimate_seconds),
       started_at_ms = VALUES(started_at_ms), started_records = VALUES(started_records),
       done_at_start = VALUES(done_at_start)`,
    [key.version, ...values],
  );
}

/**
 * `recover --plan` records its figures for the dashboard (nothing of the pipeline changes). A plan
 * made again replaces them; what a replay already started keeps its start only for the same plan key.
 */
export async function recordPlanned(pool: Pool, key: PlanKey, planned: PlannedFigures): Promise<void> {
  const stored = (await readPlans(pool)).get(key.version);
  const sameKey = stored !== undefined && plannedFor({ ...stored, planned }, key) !== null;
  await write(pool, key, planned, sameKey ? stored.started : null);
}

/** `recover` records where its replay starts, keeping a plan made for the same topics and settings. */
export async function recordStarted(pool: Pool, key: PlanKey, started: StartedFigures): Promise<void> {
  await write(pool, key, plannedFor((await readPlans(pool)).get(key.version), key), started);
}
