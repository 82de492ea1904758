import { describe, expect, it } from 'vitest';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { versionSettings } from '../src/model/version-settings.js';
import { useTestContext } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const context = useTestContext('mysql-sink');

const sql = <T>(query: string, values: unknown[] = []) => sqlRows<T>(context.mysqlUrl, query, values);

describe('MySqlSink against MariaDB', () => {
  it('refuses a stale owner’s --idle-close commit, which does not move the offset', { timeout: 60_000 }, async () => {
    const settings = versionSettings({
      window: 10_000,
      slide: 10_000,
      watermarkDelay: 15_000,
      dims: ['user'],
      timeZone: 'UTC',
      topicStages: 'zombie-stages',
    });
    const [owner, zombie] = [
      await MySqlSink.open(context.mysqlUrl, 'v3', 'zombie-stages'),
      await MySqlSink.open(context.mysqlUrl, 'v3', 'zombie-stages'),
    ];
    try {
      await owner.prepare({ version: 'v3', settings });
      await zombie.prepare({ version: 'v3', settings });
      const rows = [{ windowStart: 0, windowEnd: 10_000, dim: 'user', key: 'Kim', count: 2 }];
      const close = (progress: { nextOffset: bigint; seq: number }) => ({
        partition: 0,
        expected: progress,
        nextOffset: 5n,
        rows,
        snapshot: { maxEventTime: 1_000, lateEvents: 0, open: [] },
        lateEvents: 0,
        lateWindows: 0,
        badRecords: 0,
        watermark: null,
        idleClosed: true,
      });
      expect(await owner.load(0)).toMatchObject({ nextOffset: 0n, seq: 0 });
      await owner.commit({ ...close({ nextOffset: 0n, seq: 0 }), idleClosed: false });
      // Both believe they own partition 0 at offset 5 (a rebalance, a zombie instance).
      const seen = await zombie.load(0);
      expect(await owner.commit(close(await owner.load(0)))).toBe(true);
      expect(await zombie.commit(close(seen))).toBe(false);
      expect(await sql('SELECT user_name, count FROM events_users_v3')).toEqual([{ user_name: 'Kim', count: 4 }]);
    } finally {
      await owner.close();
      await zombie.close();
    }
  });

  it(
    'stops with KAPPA_SQL_REJECTED on a commit MySQL refuses for its data, instead of retrying it forever',
    { timeout: 60_000 },
    async () => {
      const settings = versionSettings({
        window: 36_000_000,
        slide: 36_000_000,
        watermarkDelay: 15_000,
        dims: ['user'],
        timeZone: 'UTC',
        topicStages: 'far-stages',
      });
      const sink = await MySqlSink.open(context.mysqlUrl, 'v4', 'far-stages');
      try {
        await sink.prepare({ version: 'v4', settings });
        const progress = await sink.load(0);
        // A window near the top of the event-time range ends after 9999-12-31: not a DATETIME.
        const start = Date.UTC(9999, 11, 31, 18);
        const commit = sink.commit({
          partition: 0,
          expected: progress,
          nextOffset: 1n,
          rows: [{ windowStart: start, windowEnd: start + 36_000_000, dim: 'user', key: 'Kim', count: 1 }],
          snapshot: { maxEventTime: start, lateEvents: 0, open: [] },
          lateEvents: 0,
          lateWindows: 0,
          badRecords: 0,
          watermark: null,
        });
        await expect(commit).rejects.toMatchObject({ code: 'KAPPA_SQL_REJECTED', retriable: false });
        await expect(commit).rejects.toThrow(
          /ER_TRUNCATED_WRONG_VALUE|ER_WARN_DATA_OUT_OF_RANGE|ER_DATETIME_FUNCTION_OVERFLOW/,
        );
        // Nothing of it was written: the progress did not move.
        expect(await sink.load(0)).toMatchObject({ nextOffset: 0n, seq: progress.seq });
      } finally {
        await sink.close();
      }
    },
  );

  it(
    'records KAPPA_MAX_FUTURE per version and refuses another bound, recording it for a version created before',
    { timeout: 60_000 },
    async () => {
      const settings = (maxFuture: number) =>
        versionSettings({
          window: 10_000,
          slide: 10_000,
          watermarkDelay: 15_000,
          dims: ['user'],
          timeZone: 'UTC',
          topicStages: 'future-stages',
          maxFuture,
        });
      const prepare = async (version: string, maxFuture: number) => {
        const sink = await MySqlSink.open(context.mysqlUrl, version, 'future-stages');
        try {
          await sink.prepare({ version, settings: settings(maxFuture) });
        } finally {
          await sink.close();
        }
      };
      await prepare('v5', 3_600_000);
      expect(await sql('SELECT max_future_ms FROM kappa_versions WHERE version = ?', ['v5'])).toEqual([
        { max_future_ms: 3_600_000 },
      ]);
      // Another bound decides other records future-time: the same log would give other counts.
      await expect(prepare('v5', 7_200_000)).rejects.toMatchObject({ code: 'KAPPA_VERSION_SETTINGS_MISMATCH' });
      await expect(prepare('v5', 7_200_000)).rejects.toThrow(/max future 3600s, not 7200s.*--max-future 3600s/);
      await prepare('v5', 3_600_000);
      // A version an older kappa created (no bound recorded) records the one it is next started with.
      await sql('UPDATE kappa_versions SET max_future_ms = NULL WHERE version = ?', ['v5']);
      await prepare('v5', 7_200_000);
      expect(await sql('SELECT max_future_ms FROM kappa_versions WHERE version = ?', ['v5'])).toEqual([
        { max_future_ms: 7_200_000 },
      ]);
    },
  );
});
