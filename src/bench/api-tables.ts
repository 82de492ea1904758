import { createPool } from 'mysql2/promise';
import { DEFAULT_DIMS, keyOf, type Dimension } from '../model/dimensions.js';
import { jobNames } from '../aggregates/job-names.js';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import { versionSettings } from '../model/version-settings.js';
import { switchReaders } from '../recovery/serving-pointer.js';
import { enrich } from '../stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../stages/enrich/sample-tables.js';

/** The first event's time in the aggregate row's replay (`fillStages`): events follow 1 ms apart. */
export const REPLAY_BASE_MS = Date.UTC(2026, 10, 22, 11, 0, 0);

export interface CountedWindow {
  readonly start: number;
  readonly key: string;
  readonly count: number;
}

/**
 * The rows a tumbling version leaves after the aggregate row's replay (`events` events 1 ms apart from
 * REPLAY_BASE_MS, enriched with the same tables), per dimension, computed without Kafka: the windows
 * every event of the ordered replay falls in, counted.
 */
export function replayedWindows(events: number, windowMs: number): Map<Dimension, CountedWindow[]> {
  const counts = new Map<Dimension, Map<string, number>>(DEFAULT_DIMS.map((dim) => [dim, new Map()]));
  for (let id = 0; id < events; id += 1) {
    const at = REPLAY_BASE_MS + id;
    const start = at - (at % windowMs);
    const event = enrich({ id, hello: 'x', time: '' }, SAMPLE_TABLES);
    for (const dim of DEFAULT_DIMS) {
      const slot = `${start}|${keyOf(dim, event)}`;
      const byKey = counts.get(dim);
      byKey?.set(slot, (byKey.get(slot) ?? 0) + 1);
    }
  }
  return new Map(
    [...counts].map(([dim, byKey]) => [
      dim,
      [...byKey].map(([slot, count]) => {
        const cut = slot.indexOf('|');
        return { start: Number(slot.slice(0, cut)), key: slot.slice(cut + 1), count };
      }),
    ]),
  );
}

/** The settings of the API row's v1 (and the verify row's v2): window 10 s, watermark 15 s, the default dimensions. */
export const apiVersionSettings = (stagesTopic: string) =>
  versionSettings({
    window: 10_000,
    slide: 10_000,
    watermarkDelay: 15_000,
    timeZone: 'Asia/Seoul',
    topicStages: stagesTopic,
  });

const datetime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * What the aggregate row leaves for the API row, written straight into `mysqlUrl`'s database (which
 * must be empty): version v1 (window 10 s, watermark 15 s, user + dept + age) registered as the sink
 * registers it, its tables filled with the windows of a 1,000,000-event replay, and v1 serving
 * (views and pointer switched as a first version's first commit switches them). Seconds instead of
 * the replay's minutes.
 */
export async function fillApiTables(mysqlUrl: string, stagesTopic: string, events = 1_000_000): Promise<void> {
  const settings = apiVersionSettings(stagesTopic);
  const sink = await MySqlSink.open(mysqlUrl, 'v1', stagesTopic);
  try {
    await sink.prepare({ version: 'v1', settings });
  } finally {
    await sink.close();
  }
  const pool = createPool({ uri: mysqlUrl, timezone: 'Z', connectionLimit: 1 });
  try {
    const names = jobNames('v1');
    for (const [dim, windows] of replayedWindows(events, settings.window.sizeMs)) {
      for (let from = 0; from < windows.length; from += 5_000) {
        const chunk = windows.slice(from, from + 5_000);
        await pool.query(
          `INSERT INTO \`${names.table(dim)}\` (window_start, window_end, \`${names.column(dim)}\`, count) VALUES ?`,
          [chunk.map((row) => [datetime(row.start), datetime(row.start + settings.window.sizeMs), row.key, row.count])],
        );
      }
    }
    await switchReaders(
      pool,
      { version: 'v1', dims: settings.dims },
      { refusal: 'KAPPA_CUTOVER_REFUSED', expectedCurrent: undefined },
    );
  } finally {
    await pool.end();
  }
}
