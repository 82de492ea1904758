import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { isLate } from '../src/ingest/event-generator.js';
import { registerEventsSchema } from '../src/ingest/events-schema.js';
import { ensureTopics } from '../src/kafka/ensure-topics.js';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { logTopic } from '../src/kafka/topics.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { enrich } from '../src/stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../src/stages/enrich/sample-tables.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync } from './support/cli.js';
import { testKafka } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';

/**
 * Issue 22: one event dated 9999-12-31 moved its partition's watermark to the future, making every
 * later event of it late — live, in every replay and every future version. Event time is bounded by
 * the record timestamp (KAPPA_MAX_FUTURE), and windows by the DATETIME range.
 */
const { context, pipeline, background, referenceFromEvents, expectTablesToReach } = useAggregateHarness('hostile-time');

const N = 10_000;
const HOSTILE_ID = 4_321;
const FUTURE = '9999-12-31 23:59:59';

async function status(env: Record<string, string>, version: string): Promise<VersionStatus | undefined> {
  const result = await kappaAsync(['status', '--json'], env, 120_000);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as VersionStatus[]).find((entry) => entry.version === version);
}

/** 10,000 events with times over 1,000 s (5 % of them 30 s late) and one dated 9999-12-31. */
async function produceEvents(topic: string, registryUrl: string): Promise<void> {
  const admin = testKafka(context).admin();
  await admin.connect();
  await ensureTopics(admin, [logTopic(topic, { topicPartitions: 3, topicReplicationFactor: 1 })], context.logger);
  await admin.disconnect();
  const schemasDir = new URL('../schemas', import.meta.url).pathname;
  const { id, type } = await registerEventsSchema({ schemasDir, registryUrl, topic });
  const base = Date.UTC(2026, 10, 22, 11, 0, 0);
  const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let first = 0; first < N; first += 2_000) {
    const messages = Array.from({ length: 2_000 }, (_, index) => {
      const eventId = first + index;
      const at = base + eventId * 100 - (isLate(7, eventId, 0.05) ? 30_000 : 0);
      const time = eventId === HOSTILE_ID ? FUTURE : formatEventTime(at, 'Asia/Seoul');
      // The record timestamp is the producer's clock (today), weeks after the event times.
      return {
        key: String(eventId),
        partition: eventId % 3,
        value: encodeWithSchemaId(id, type, { id: eventId, hello: 'x', time, event_ts: null }),
      };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

describe('an event time far ahead of its record timestamp (real broker, registry, MariaDB)', () => {
  it(
    'is dead-lettered as future-time: tables and late count equal the model without it, live and replayed',
    { timeout: 600_000 },
    async () => {
      const env = pipeline('future');
      const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
      await produceEvents(events, env['KAPPA_REGISTRY_URL'] ?? '');
      background(['enrich'], env, 'enrich');
      background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');

      const reference = await referenceFromEvents(events, false, (event) => event.id !== HOSTILE_ID);
      expect(reference.late).toBeGreaterThan(0);
      await expectTablesToReach('v1', reference, 240_000);

      const [dead] = await readAtLeast(testKafka(context), `${events}.dlq`, 1, 2_000);
      expect(dead?.headers?.['kappa.dlq.reason']?.toString()).toBe('future-time');
      expect(dead?.headers?.['kappa.dlq.detail']?.toString()).toContain(`"${FUTURE}" in Asia/Seoul: time is`);

      // A replay decides from the same record timestamps: the same tables, whenever it runs.
      const replay = await kappaAsync(['recover', '--to', 'v2', '--until-caught-up'], env, 300_000);
      expect(replay.code, replay.stderr).toBe(0);
      await expectTablesToReach('v2', reference, 120_000);
      expect((await status(env, 'v2'))?.badRecords).toBe(0);
    },
  );

  it(
    'the aggregator dead-letters stages records with a future time or a window past 9999-12-31, and never stalls',
    { timeout: 300_000 },
    async () => {
      const env = pipeline('range');
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      const admin = testKafka(context).admin();
      await admin.connect();
      await ensureTopics(admin, [logTopic(stages, { topicPartitions: 1, topicReplicationFactor: 1 })], context.logger);
      await admin.disconnect();
      const schema = readFileSync(new URL('../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
      const { id } = await new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' }).register(
        { type: SchemaType.AVRO, schema },
        { subject: `${stages}-value` },
      );
      const type = parseAvro(schema);
      const record = (eventId: number, time: string, timestamp: number) => ({
        key: String(eventId % 10),
        value: encodeWithSchemaId(id, type, enrich({ id: eventId, hello: 'x', time }, SAMPLE_TABLES)),
        timestamp: String(timestamp),
      });
      const now = Date.now();
      // 9999-12-31 23:59:59 UTC: a producer may stamp a record so; then the time is not ahead of it,
      // but a 10 h window of 9999-12-31 23:59:59 in Los Angeles ends in the year 10000.
      const top = Date.UTC(9999, 11, 31, 23, 59, 59);
      const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const messages = [
        record(1, '2026-11-22 10:00:00', now),
        record(2, FUTURE, now),
        record(3, '9999-12-31 15:59:59', top),
        record(4, '2026-11-22 10:00:01', now),
      ];
      // A topic this fresh may not be known to every metadata answer yet: the send is retried.
      for (let attempt = 1; ; attempt += 1) {
        const sent = await producer.send({ topic: stages, messages }).then(
          () => true,
          (error: unknown) => {
            if (attempt >= 20) throw error;
            return false;
          },
        );
        if (sent) break;
        await sleep(500);
      }
      await producer.disconnect();
      const versionEnv = { ...env, KAPPA_TIME_ZONE: 'America/Los_Angeles' };
      background(['aggregate', '--version', 'v3', '--window', '10h', '--slide', '10h'], versionEnv, 'aggregate-v3');

      // Counted once, and the partition moves on past them (no sink retrying an invalid DATETIME).
      let v3: VersionStatus | undefined;
      for (let attempt = 0; attempt < 120; attempt += 1) {
        v3 = await status(versionEnv, 'v3');
        if (v3 !== undefined && v3.lag === 0 && v3.badRecords >= 2) break;
        await sleep(1_000);
      }
      expect(v3).toMatchObject({ lag: 0, badRecords: 2 });
      // kappa lateness decides as the aggregator does: the future-time record is no event (it would
      // move the partition's largest time to 9999), counted apart; the out-of-range one is bad.
      const lateness = await kappaAsync(
        ['lateness', '--json', '--window', '10h', '--slide', '10h'],
        versionEnv,
        120_000,
      );
      expect(lateness.code, lateness.stderr).toBe(0);
      expect(JSON.parse(lateness.stdout)).toMatchObject({ events: 2, bad: 1, future: 1 });
      // The dead-letter topic exists once the aggregator has started.
      const dead = await readAtLeast(testKafka(context), `${stages}.dlq`, 2, 2_000);
      expect(dead.map((message) => message.headers?.['kappa.dlq.reason']?.toString())).toEqual([
        'future-time',
        'window-out-of-range',
      ]);
    },
  );
});
