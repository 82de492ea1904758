import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import type { ReplayPlan } from '../src/recovery/replay-plan.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync } from './support/cli.js';
import { testKafka } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const { context, pipeline } = useAggregateHarness('recover-plan-chain');

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await kappaAsync(args, { ...env, KAPPA_LOG_LEVEL: 'warn' }, 300_000);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

const countRows = async (table: string) =>
  Number((await sqlRows<{ n: number }>(context.mysqlUrl, `SELECT COUNT(*) AS n FROM ${table}`))[0]?.n ?? 0);

async function recordCount(topic: string): Promise<number> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, entry) => sum + Number(entry.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Events 10 minutes ahead in every partition: the generated events' windows close in the replay. */
async function flush(env: Record<string, string>): Promise<void> {
  const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
  const registry = new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' });
  const schemaId = await registry.getLatestSchemaId(`${events}-value`);
  const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const at = Date.now() + 10 * 60_000;
  const messages = await Promise.all(
    Array.from({ length: 20 }, async (_, index) => {
      const id = 1_000_000 + index;
      const value = await registry.encode(schemaId, {
        id,
        hello: 'flush',
        time: formatEventTime(at, 'Asia/Seoul'),
        event_ts: at,
      });
      return { key: String(id), value, partition: id % 3 };
    }),
  );
  await producer.send({ topic: events, messages });
  await producer.disconnect();
}

describe('kappa recover --plan --from <events>: the full chain planned like the stages replay (issue 26)', () => {
  it(
    'records per partition of the raw topic, rows and late events exactly, an estimate',
    { timeout: 900_000 },
    async () => {
      const env = pipeline('chain');
      const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
      const stagesV2 = `${env['KAPPA_TOPIC_STAGES'] ?? ''}-v2`;
      await ok(['ingest', '--count', '3000', '--rate', '0', '--late-fraction', '0.05', '--late-by', '90s'], env);
      await flush(env);
      const raw = await recordCount(events);
      const args = ['recover', '--from', events, '--stages-topic', stagesV2, '--to', 'v2', '--watermark', '60s'];

      const plan = JSON.parse(await ok([...args, '--plan', '--json'], env)) as ReplayPlan;
      expect(plan).toMatchObject({ topic: events, records: raw, fullChain: { stagesTopic: stagesV2 } });
      expect(plan.partitions.reduce((sum, entry) => sum + entry.records, 0)).toBe(raw);
      expect(plan.schemaIds.every((entry) => entry.resolves && entry.readable)).toBe(true);
      expect(plan.estimate.sampleRecords).toBeGreaterThan(0);
      expect(plan.late.planned).toBeGreaterThan(0);
      expect(plan.rows.user ?? 0).toBeGreaterThan(0);
      const text = await ok([...args, '--plan'], env);
      expect(text).toContain(`full chain: enriched again into ${stagesV2}`);
      expect(text).toContain('estimated duration');

      await ok([...args, '--until-caught-up'], env);
      const v2 = (JSON.parse(await ok(['status', '--json'], env)) as VersionStatus[]).find(
        (entry) => entry.version === 'v2',
      );
      expect(v2?.lateEvents).toBe(plan.late.planned);
      expect(v2?.badRecords).toBe(plan.deadLetters - (plan.fullChain?.enrichDeadLetters ?? 0));
      expect({
        user: await countRows('events_users_v2'),
        dept: await countRows('events_depts_v2'),
        age: await countRows('events_ages_v2'),
      }).toEqual({ user: plan.rows.user ?? 0, dept: plan.rows.dept ?? 0, age: plan.rows.age ?? 0 });
      // The recorded plan is the one the replay adopted: the versions API shows it.
      expect(v2?.plan).toMatchObject({ records: raw, plannedRecords: raw, expectedLate: plan.late.planned });
      process.stdout.write(`full-chain plan estimated ${plan.estimate.seconds} s\n`);
    },
  );
});
