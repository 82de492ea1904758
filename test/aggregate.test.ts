import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { testKafka } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';

const { context, pipeline, background, produceStages, referenceFromLog, tablesOf, expectTablesToReach } =
  useAggregateHarness('aggregate');

describe('kappa aggregate against the real broker and MariaDB', () => {
  it(
    'writes, per window and key, exactly the totals of the reference model computed from the log (late events counted, not in totals)',
    { timeout: 120_000 },
    async () => {
      const env = pipeline('one');
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 6_000, 3);
      const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 6_000);
      expect(reference.late).toBeGreaterThan(0);
      expect(reference.rows.size).toBeGreaterThan(0);
      background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age', '--publish-late'], env, 'aggregate');
      await expectTablesToReach('v1', reference);
      // --publish-late: the late events are in <stages>.late, each with its source offset.
      const late = await readAtLeast(
        testKafka(context),
        `${env['KAPPA_TOPIC_STAGES'] ?? ''}.late`,
        reference.late,
        1_000,
      );
      expect(late).toHaveLength(reference.late);
      expect(
        new Set(
          late.map(
            (message) =>
              `${message.headers?.['kappa.source.partition']?.toString()}:${message.headers?.['kappa.source.offset']?.toString()}`,
          ),
        ).size,
      ).toBe(reference.late);
    },
  );

  it(
    'survives kill -9 at a random point: after a restart the tables still equal the reference',
    { timeout: 180_000 },
    async () => {
      // Small commits: many commit points, so the kill lands mid-stream (by default a commit holds up
      // to 1 s of work or 50,000 records, which is this whole log).
      const env: Record<string, string> = { ...pipeline('killed'), KAPPA_COMMIT_RECORDS: '1000' };
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 30_000, 7);
      const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 30_000);
      const first = background(['aggregate', '--version', 'v2', '--dims', 'user,dept,age'], env, 'aggregate-first');
      // Kill it once it has committed something (seeded pause, so the point is reproducible).
      while ((await tablesOf('v2')).rows.size === 0) await sleep(100);
      await sleep(137);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      expect((await tablesOf('v2')).rows, 'the kill must land before the end').not.toEqual(reference.rows);
      background(['aggregate', '--version', 'v2', '--dims', 'user,dept,age'], env, 'aggregate-second');
      await expectTablesToReach('v2', reference);
    },
  );

  it(
    'gives the same totals with two instances sharing the 3 partitions (a key — Kim, uids 0 and 2 — in several partitions)',
    { timeout: 180_000 },
    async () => {
      const env = pipeline('pair');
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 20_000, 11);
      const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 20_000);
      expect([...reference.rows.keys()].some((key) => key.endsWith('|user|Kim'))).toBe(true);
      background(['aggregate', '--version', 'v3', '--dims', 'user,dept,age'], env, 'aggregate-a');
      background(['aggregate', '--version', 'v3', '--dims', 'user,dept,age'], env, 'aggregate-b');
      await expectTablesToReach('v3', reference);
      // Both instances owned partitions (the group split them), and the totals are still exact.
      const owned = (label: string) =>
        readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', `${label}.log`), 'utf8')
          .split('\n')
          .filter((line) => line.includes('partitions assigned'))
          .map((line) => (JSON.parse(line) as { partitions: number[] }).partitions.length);
      expect(Math.max(...owned('aggregate-a'))).toBeGreaterThan(0);
      expect(Math.max(...owned('aggregate-b'))).toBeGreaterThan(0);
    },
  );

  it(
    '--idle-close closes the windows of quiet partitions and marks those rows; the totals then hold every counted event',
    { timeout: 120_000 },
    async () => {
      const env = pipeline('idle');
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 6_000, 13);
      const everything = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 6_000, true);
      const byWatermark = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 6_000);
      expect(everything.rows.size).toBeGreaterThan(byWatermark.rows.size);
      background(['aggregate', '--version', 'v4', '--dims', 'user,dept,age', '--idle-close', '2s'], env, 'aggregate');
      await expectTablesToReach('v4', everything);
      const connection = await createConnection({ uri: context.mysqlUrl });
      try {
        const [rows] = await connection.query(
          'SELECT idle_closed, COUNT(*) AS n FROM events_users_v4 GROUP BY idle_closed ORDER BY idle_closed',
        );
        const counts = Object.fromEntries(
          (rows as { idle_closed: number; n: number | string }[]).map((row) => [row.idle_closed, Number(row.n)]),
        );
        expect(counts['0']).toBeGreaterThan(0);
        expect(counts['1']).toBeGreaterThan(0);
      } finally {
        await connection.end();
      }
    },
  );

  it('creates the database of KAPPA_MYSQL_URL when it does not exist yet', { timeout: 120_000 }, async () => {
    const env = pipeline('fresh');
    const database = `${context.database}_fresh`.slice(0, 64);
    const url = context.mysqlUrl.replace(/\/[^/]+$/, `/${database}`);
    await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 600, 17);
    background(['aggregate', '--version', 'v1', '--idle-close', '1s'], { ...env, KAPPA_MYSQL_URL: url }, 'aggregate');
    const connection = await createConnection({ uri: context.mysqlUrl.replace(/\/[^/]+$/, '') });
    try {
      let tables: unknown[] = [];
      for (let attempt = 0; attempt < 200 && tables.length === 0; attempt += 1) {
        await sleep(250);
        [tables] = (await connection.query(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
          [database, 'events_users_v1'],
        )) as unknown as [unknown[]];
      }
      expect(tables).toHaveLength(1);
    } finally {
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    }
  });
});
