import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { readDigests, rebuildDigests } from '../src/aggregates/digest-store.js';
import type { CommitRequest } from '../src/aggregates/sink.js';
import { versionSettings } from '../src/model/version-settings.js';
import type { WindowRow } from '../src/aggregates/window-engine.js';
import { kappaAsync } from './support/cli.js';
import { useTestContext } from './support/context.js';

const context = useTestContext('verify');
const TOPIC = 'verify-stages';
const settings = versionSettings({
  window: 10_000,
  slide: 10_000,
  watermarkDelay: 15_000,
  dims: ['user', 'age'],
  timeZone: 'UTC',
  topicStages: TOPIC,
});

async function withSink<T>(version: string, work: (sink: MySqlSink) => Promise<T>): Promise<T> {
  const sink = await MySqlSink.open(context.mysqlUrl, version, TOPIC);
  try {
    await sink.prepare({ version, settings });
    return await work(sink);
  } finally {
    await sink.close();
  }
}

/** Commits `batches` of rows to `partition`, one commit each, as the aggregator does. */
async function commitAll(sink: MySqlSink, partition: number, batches: readonly (readonly WindowRow[])[]) {
  for (const rows of batches) {
    const progress = await sink.load(partition);
    const request: CommitRequest = {
      partition,
      expected: { nextOffset: progress.nextOffset, seq: progress.seq },
      nextOffset: progress.nextOffset + 10n,
      rows,
      snapshot: { maxEventTime: 1_000_000, lateEvents: 0, lateWindows: 0, open: [] },
      lateEvents: 0,
      lateWindows: 0,
      badRecords: 0,
      watermark: 1_000_000,
    };
    expect(await sink.commit(request)).toBe(true);
  }
}

const row = (windowStart: number, dim: string, key: string, count: number): WindowRow => ({
  windowStart,
  windowEnd: windowStart + 10_000,
  dim,
  key,
  count,
});

const verify = (...args: string[]) =>
  kappaAsync(['verify', ...args], { KAPPA_MYSQL_URL: context.mysqlUrl, KAPPA_LOG_LEVEL: 'error' });

describe('kappa verify: per-window digests', () => {
  it(
    'the sink writes digests equal to the formula over its final rows, whatever the split',
    { timeout: 120_000 },
    async () => {
      const rows = [
        row(0, 'user', 'Kim', 2),
        row(0, 'user', 'KIM', 1),
        row(0, 'user', 'Lée', 3),
        row(10_000, 'user', 'Lee ', 4),
        row(0, 'age', '27', 5),
        row(10_000, 'age', '31', 1),
      ];
      // v1: everything from partition 0 in one commit; v2: the same counts split over two partitions
      // and several commits in another order (a key occurring in several partitions).
      await withSink('v1', async (sink) => {
        await commitAll(sink, 0, [rows]);
        await commitAll(sink, 1, [[]]);
      });
      await withSink('v2', async (sink) => {
        await commitAll(sink, 1, [[row(0, 'user', 'Kim', 1), row(10_000, 'age', '31', 1)], [row(0, 'age', '27', 2)]]);
        await commitAll(sink, 0, [
          [row(10_000, 'user', 'Lee ', 4), row(0, 'user', 'Lée', 3)],
          [row(0, 'user', 'KIM', 1), row(0, 'user', 'Kim', 1), row(0, 'age', '27', 3)],
        ]);
      });
      const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
      try {
        for (const dim of ['user', 'age'] as const) {
          const incremental = await readDigests(connection, 'v2', dim);
          expect(incremental).toEqual(await readDigests(connection, 'v1', dim));
          await rebuildDigests(connection, 'v2', dim);
          expect(await readDigests(connection, 'v2', dim)).toEqual(incremental);
        }
      } finally {
        await connection.end();
      }
      const same = await verify('v1', 'v2');
      expect(same.stdout).toContain('verify v1 v2: identical over 4 windows (user, age)');
      expect(same.code).toBe(0);

      await withSink('v3', async (sink) => {
        await commitAll(sink, 0, [rows.map((entry) => (entry.key === 'Lee ' ? { ...entry, key: 'Lee' } : entry))]);
        await commitAll(sink, 1, [[]]);
      });
      const other = await verify('v1', 'v3');
      expect(other.code).toBe(1);
      expect(other.stdout).toContain('1 of 4 windows differ');
      expect(other.stdout).toContain('user window 1970-01-01T00:00:10.000Z: total 4 in v1, 4 in v3');
      expect(other.stdout).toContain('`kappa diff v1 v3`');
    },
  );

  it('finds a single changed row among a million', { timeout: 600_000 }, async () => {
    const base = Date.UTC(2026, 10, 22, 0, 0, 0);
    const [windows, users] = [1_000, 1_000];
    const watermark = base + (windows + 10) * 10_000;
    await withSink('v4', async () => {});
    await withSink('v5', async () => {});
    const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z', multipleStatements: true });
    try {
      // A million rows by SQL (seconds, where a replay through Kafka takes minutes): 1,000 windows × 1,000 users.
      await connection.query('CREATE TABLE n (i INT NOT NULL PRIMARY KEY)');
      await connection.query('INSERT INTO n VALUES ?', [
        Array.from({ length: Math.max(windows, users) }, (_, i) => [i]),
      ]);
      await connection.query(
        `INSERT INTO events_users_v4 (window_start, window_end, user_name, count)
         SELECT TIMESTAMPADD(SECOND, w.i * 10, ?), TIMESTAMPADD(SECOND, w.i * 10 + 10, ?), CONCAT('user-', u.i), 1 + (w.i * 7 + u.i) % 13
         FROM n w CROSS JOIN n u WHERE w.i < ? AND u.i < ?`,
        [new Date(base), new Date(base), windows, users],
      );
      await connection.query('INSERT INTO events_users_v5 SELECT * FROM events_users_v4');
      await connection.query(
        "UPDATE events_users_v5 SET count = count + 1 WHERE window_start = ? AND user_name = 'user-777'",
        [new Date(base + 500 * 10_000)],
      );
      for (const version of ['v4', 'v5']) {
        for (const dim of ['user', 'age'] as const) await rebuildDigests(connection, version, dim);
        await connection.query(
          `INSERT INTO kappa_progress (version, topic, partition_id, next_offset, late_events, watermark_ms, snapshot, updated_at)
           VALUES (?, ?, 0, 1000000, 0, ?, '{}', UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE watermark_ms = VALUES(watermark_ms)`,
          [version, TOPIC, watermark],
        );
      }
      const [[counted]] = (await connection.query('SELECT COUNT(*) AS n FROM events_users_v5')) as unknown as [
        [{ n: number }],
      ];
      expect(Number(counted.n)).toBe(windows * users);

      const found = await verify('v4', 'v5');
      expect(found.code).toBe(1);
      expect(found.stdout).toContain('1 of 1,000 windows differ (user, age)');
      expect(found.stdout).toContain(
        `user window ${new Date(base + 500 * 10_000).toISOString()}: total 7,004 in v4, 7,005 in v5`,
      );

      await connection.query(
        "UPDATE events_users_v5 SET count = count - 1 WHERE window_start = ? AND user_name = 'user-777'",
        [new Date(base + 500 * 10_000)],
      );
      await rebuildDigests(connection, 'v5', 'user');
      const equal = await verify('v4', 'v5');
      expect(equal.stdout).toContain('verify v4 v5: identical over 1,000 windows (user, age)');
      expect(equal.code).toBe(0);
    } finally {
      await connection.end();
    }
  });
});
