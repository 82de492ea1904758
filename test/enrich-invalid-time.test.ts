import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import type { EnrichedEvent } from '../src/model/enriched-event.js';
import { cleanEnv, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { testKafka, useTestContext } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';
import { useRegistryAndProcesses } from './support/registry.js';

const context = useTestContext('enrich-time');
const { registryUrl, track } = useRegistryAndProcesses(context);

/** Times the aggregator cannot parse: they must stop at enrichment, never reach events_stages. */
const INVALID_TIMES = ['2026-02-30 10:00:00', '2026-13-01 10:00:00', '2026-11-22 24:00:00', '0050-01-01 10:00:00'];

describe('kappa enrich with invalid event times (SPEC §1.2)', () => {
  it(
    'dead-letters them to events.dlq with kappa.dlq.reason invalid-time; valid ones pass',
    { timeout: 180_000 },
    async () => {
      const env = {
        KAPPA_KAFKA_BROKERS: context.brokers.join(','),
        KAPPA_REGISTRY_URL: registryUrl(),
        KAPPA_TOPIC_EVENTS: context.topic('time-events'),
        KAPPA_TOPIC_STAGES: context.topic('time-stages'),
        KAPPA_STATE_DIR: mkdtempSync(join(tmpdir(), 'kappa-enrich-time-')),
      };
      const events = env.KAPPA_TOPIC_EVENTS;
      // Three generated events create the topics and register the events schema.
      const ingested = await kappaAsync(['ingest', '--count', '3', '--rate', '0'], env);
      expect(ingested.code, ingested.stderr).toBe(0);
      const schemaId = await new SchemaRegistry({ host: registryUrl() }).getLatestSchemaId(`${events}-value`);
      const type = parseAvro(readFileSync(new URL('../schemas/events/v2.avsc', import.meta.url), 'utf8'));
      const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({
        topic: events,
        messages: [...INVALID_TIMES, '2026-11-22 20:31:07'].map((time, index) => ({
          key: time,
          value: encodeWithSchemaId(schemaId, type, { id: 1_000 + index, hello: 'x', time, event_ts: null }),
        })),
      });
      await producer.disconnect();

      const log = openSync(join(env.KAPPA_STATE_DIR, 'enrich.log'), 'a');
      track(spawn(process.execPath, [KAPPA_BIN, 'enrich'], { env: cleanEnv(env), stdio: ['ignore', log, log] }));

      const deadLetters = await readAtLeast(testKafka(context), `${events}.dlq`, INVALID_TIMES.length, 2_000);
      expect(
        deadLetters.map((message) => [message.key, message.headers?.['kappa.dlq.reason']?.toString()]).sort(),
      ).toEqual(INVALID_TIMES.map((time) => [time, 'invalid-time']).sort());
      for (const message of deadLetters)
        expect(message.headers?.['kappa.dlq.detail']?.toString()).toContain(JSON.stringify(message.key));

      const client = new SchemaRegistry({ host: registryUrl() });
      const stages = await readAtLeast(testKafka(context), env.KAPPA_TOPIC_STAGES, 4, 2_000);
      const records = await Promise.all(
        stages.map(async (message) => (await client.decode(message.value)) as EnrichedEvent),
      );
      expect(records.map((record) => record.id).sort((a, b) => a - b)).toEqual([0, 1, 2, 1_004]);
    },
  );
});
