import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import { formatEventTime } from '../src/shared/event-time.js';
import type { EnrichedEvent } from '../src/model/enriched-event.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync } from './support/cli.js';
import { testKafka, createTestTopic } from './support/context.js';
import { sqlRows } from './support/mariadb.js';
import { readAtLeast } from './support/read-topic.js';

/** Issue 13: the exactly-once promise survives operator mistakes and extreme settings. */
const { context, pipeline, background, produceStages, referenceFromLog, tablesOf, expectTablesToReach } =
  useAggregateHarness('aggregate-guarantees');

const sql = <T>(query: string, values: unknown[] = []) => sqlRows<T>(context.mysqlUrl, query, values);

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Enriched events (or raw bytes) into partition 0 of a 1-partition stages topic (created on first
 * use), in order, in one transaction — committed, or aborted with `abort`.
 */
async function produceRaw(
  topic: string,
  registryUrl: string,
  records: readonly (EnrichedEvent | Buffer)[],
  options: { readonly abort?: boolean } = {},
): Promise<void> {
  const admin = testKafka(context).admin();
  await admin.connect();
  await createTestTopic(admin, topic, 1);
  await admin.disconnect();
  const schema = readFileSync(new URL('../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
  const { id } = await new SchemaRegistry({ host: registryUrl }).register(
    { type: SchemaType.AVRO, schema },
    { subject: `${topic}-value` },
  );
  const type = parseAvro(schema);
  const messages = records.map((record) => ({
    partition: 0,
    value: Buffer.isBuffer(record) ? record : encodeWithSchemaId(id, type, record),
  }));
  const producer = testKafka(context).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: `${topic}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const transaction = await producer.transaction();
  for (let at = 0; at < messages.length; at += 2_000)
    await transaction.send({ topic, messages: messages.slice(at, at + 2_000) });
  if (options.abort === true) await transaction.abort();
  else await transaction.commit();
  await producer.disconnect();
}

function event(id: number, seconds: number, user: string): EnrichedEvent {
  return {
    time: formatEventTime(Date.UTC(2026, 10, 22, 11, 0, 0) + seconds * 1_000, 'Asia/Seoul'),
    user_id: id % 10,
    user_name: user,
    dept_name: 'Data',
    gender: id % 2 === 0 ? 'M' : 'F',
    age: (id % 100) + 1,
    hello: 'x',
    id,
  };
}

interface StatusJson {
  readonly version: string;
  readonly lag: number;
  readonly lateEvents: number;
  readonly lateWindows?: number;
  readonly badRecords?: number;
}

async function status(env: Record<string, string>): Promise<StatusJson[]> {
  const result = await kappaAsync(['status', '--json'], env);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson[];
}

describe('the aggregator against operator mistakes and extreme settings (real broker, MariaDB)', () => {
  it(
    '1. refuses to start a version with other settings, naming the setting, its recorded value and the flag',
    { timeout: 180_000 },
    async () => {
      const env = pipeline('settings');
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 600, 3);
      const first = background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'first');
      await waitFor(async () => (await tablesOf('v1')).rows.size > 0, 'v1 rows');
      first.kill('SIGTERM');
      await new Promise((resolve) => first.once('exit', resolve));
      // `kappa aggregate --version v1` with its old default dims (user), and another time zone.
      const dims = await kappaAsync(['aggregate', '--version', 'v1', '--dims', 'user'], env);
      expect(dims.code).toBe(1);
      expect(dims.stderr).toMatch(
        /created with dims user,dept,age, not user.*--dims user,dept,age.*KAPPA_VERSION_SETTINGS_MISMATCH/,
      );
      const zone = await kappaAsync(['aggregate', '--version', 'v1'], { ...env, KAPPA_TIME_ZONE: 'UTC' });
      expect(zone.code).toBe(1);
      expect(zone.stderr).toMatch(/time zone Asia\/Seoul, not UTC.*--time-zone Asia\/Seoul/);
      const topic = await kappaAsync(['aggregate', '--version', 'v1'], { ...env, KAPPA_TOPIC_STAGES: 'elsewhere' });
      expect(topic.code).toBe(1);
      expect(topic.stderr).toMatch(/stages topic .*-stages, not elsewhere.*--stages-topic/);
      const [recorded] = await sql<Record<string, string>>(
        'SELECT dims, time_zone, sink, stages_topic FROM kappa_versions WHERE version = ?',
        ['v1'],
      );
      expect(recorded).toEqual({
        dims: 'user,dept,age',
        time_zone: 'Asia/Seoul',
        sink: 'mysql',
        stages_topic: env['KAPPA_TOPIC_STAGES'],
      });
    },
  );

  it(
    '2. a partition without progress starts at offset 0, never at the consumer group’s committed offset',
    { timeout: 180_000 },
    async () => {
      const env = pipeline('restart');
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000, 5);
      const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000);
      const first = background(['aggregate', '--version', 'v2'], env, 'first');
      await expectTablesToReach('v2', reference);
      first.kill('SIGTERM');
      await new Promise((resolve) => first.once('exit', resolve));
      // The operator drops the version's tables and progress to run it again; the group's offsets stay.
      for (const table of ['events_users_v2', 'events_depts_v2', 'events_ages_v2']) await sql(`DROP TABLE ${table}`);
      await sql("DELETE FROM kappa_progress WHERE version = 'v2'");
      background(['aggregate', '--version', 'v2'], env, 'second');
      await expectTablesToReach('v2', reference);
    },
  );

  it(
    '4. an event that closes over 200,000 rows is committed in bounded chunks (RangeError forever before)',
    { timeout: 600_000 },
    async () => {
      const env: Record<string, string> = {
        ...pipeline('extreme'),
        KAPPA_WINDOW: '10s',
        KAPPA_SLIDE: '1s',
        KAPPA_WATERMARK: '60m',
      };
      const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
      // An hour of events, 6 keys a second (60 per 10-second window), then one event 2 h later.
      const records: EnrichedEvent[] = [];
      for (let second = 0; second < 3_600; second += 1)
        for (let n = 0; n < 6; n += 1) records.push(event(records.length, second, `u${n}-${second % 10}`));
      records.push(event(records.length, 3_600 + 7_200 + 3_600, 'late-comer'));
      await produceRaw(topic, env['KAPPA_REGISTRY_URL'] ?? '', records);
      background(['aggregate', '--version', 'v4', '--dims', 'user'], env, 'aggregate');
      const expected = (records.length - 1) * 10;
      await waitFor(
        async () => {
          const [row] = await sql<{ total: string | null }>('SELECT SUM(count) AS total FROM events_users_v4').catch(
            () => [{ total: null }],
          );
          return Number(row?.total ?? 0) >= expected;
        },
        'every row of the closed windows',
        540_000,
      );
      const [counts] = await sql<{ n: number; total: string }>(
        'SELECT COUNT(*) AS n, SUM(count) AS total FROM events_users_v4',
      );
      expect(Number(counts?.n)).toBeGreaterThan(200_000);
      expect(Number(counts?.total)).toBe(expected);
      const [progress] = await sql<{ next_offset: string; commit_seq: string }>(
        "SELECT next_offset, commit_seq FROM kappa_progress WHERE version = 'v4'",
      );
      expect(Number(progress?.next_offset)).toBe(records.length + 1); // the records and the commit marker
      expect(Number(progress?.commit_seq)).toBeGreaterThan(10); // 20,000 rows at most per commit
    },
  );

  it(
    '5 and 8. keys compare exactly; bad records (undecodable, bad time, key too long) are counted once and dead-lettered',
    { timeout: 180_000 },
    async () => {
      const env = pipeline('keys');
      const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
      const users = ['Kim', 'KIM', 'Lee', 'Lée', 'Lee ', 'kim'];
      const records: (EnrichedEvent | Buffer)[] = users.map((user, id) => event(id, 1, user));
      records.push(Buffer.from('not avro'));
      records.push({ ...event(10, 2, 'Kim'), time: '2026-13-45 99:00:00' });
      records.push(event(11, 3, 'K'.repeat(300)));
      records.push(event(12, 60, 'Park')); // closes [0, 10)
      await produceRaw(topic, env['KAPPA_REGISTRY_URL'] ?? '', records);
      background(['aggregate', '--version', 'v5'], env, 'aggregate');
      await waitFor(async () => (await tablesOf('v5')).rows.size >= users.length, 'the v5 rows');
      const rows = await sql<{ user_name: string; count: string }>(
        'SELECT user_name, count FROM events_users_v5 ORDER BY user_name',
      );
      expect(rows.map((row) => [row.user_name, Number(row.count)]).sort()).toEqual(
        users.map((user) => [user, 1]).sort(),
      );
      const dead = await readAtLeast(testKafka(context), `${topic}.dlq`, 3, 1_000);
      expect(dead.map((message) => message.headers?.['kappa.dlq.reason']?.toString()).sort()).toEqual([
        'invalid-time',
        'key-too-long',
        'not-avro-wire-format',
      ]);
      expect(dead[0]?.headers?.['kappa.dlq.stage']?.toString()).toBe('aggregate');
      const [progress] = await sql<{ bad_records: string }>(
        "SELECT bad_records FROM kappa_progress WHERE version = 'v5'",
      );
      expect(Number(progress?.bad_records)).toBe(3);
      expect((await status(env)).find((entry) => entry.version === 'v5')).toMatchObject({ badRecords: 3 });
    },
  );

  it(
    '9. a caught-up version shows lag 0 on a quiet topic whose log ends with an aborted transaction',
    { timeout: 180_000 },
    async () => {
      const env = pipeline('quiet');
      const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
      const registryUrl = env['KAPPA_REGISTRY_URL'] ?? '';
      await produceRaw(
        topic,
        registryUrl,
        Array.from({ length: 20 }, (_, id) => event(id, id, 'Kim')),
      );
      background(['aggregate', '--version', 'v9'], env, 'aggregate');
      await waitFor(
        async () => (await status(env)).find((entry) => entry.version === 'v9')?.lag === 0,
        'v9 to consume the committed records',
        60_000,
      );
      // Then a transaction aborted at the end of the partition: a fetch of aborted records and a marker only.
      await produceRaw(
        topic,
        registryUrl,
        Array.from({ length: 3 }, (_, id) => event(20 + id, 30, 'Lee')),
        {
          abort: true,
        },
      );
      await waitFor(
        async () => (await status(env)).find((entry) => entry.version === 'v9')?.lag === 0,
        'lag 0 for v9',
        60_000,
      );
      const [progress] = await sql<{ next_offset: string }>(
        "SELECT next_offset FROM kappa_progress WHERE version = 'v9'",
      );
      // 20 records, their commit marker, 3 aborted records and the abort marker.
      expect(Number(progress?.next_offset)).toBe(25);
    },
  );
});
