import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropBenchDatabase, MYSQL_ROOT } from './bench-database.js';
import type { Kafka } from 'kafkajs';
import { CompressionTypes, Partitioners } from '../kafka/kafkajs.js';
import { makeEvent } from '../ingest/event-generator.js';
import { runIngest } from '../ingest/ingest-run.js';
import { parseAvro } from '../registry/avro-schema.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { startRegistry } from '../registry/server.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { generatorHeaders } from '../ingest/topic-tail.js';
import type { Logger } from '../shared/logger.js';
import type { Throughput } from './kafkajs-baseline.js';

const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas', import.meta.url));

const CHUNK = 2_000;
/** Two of the generator's chunks: every code path of both sides has run before either is timed. */
const WARM_UP_EVENTS = 24_000;
const OPTIONS = { template: { hello: 'ssm-seoul' }, timeZone: 'Asia/Seoul', lateFraction: 0, lateByMs: 0, seed: 1 };

/**
 * `kappa ingest --count N --rate 0` in-process into `topic` (generation, disk buffer, delivery),
 * timed after start-up (topics, schema registration, reading the log's end).
 */
export async function timedIngest(
  kafka: Kafka,
  registryUrl: string,
  topic: string,
  events: number,
  logger: Logger,
): Promise<Throughput> {
  const bufferDir = await mkdtemp(join(tmpdir(), 'kappa-bench-buffer-'));
  const idsDatabase = `kappa_bench_ids_${Date.now()}`;
  try {
    const summary = await runIngest({
      kafka,
      registryUrl,
      topics: {
        topicEvents: topic,
        topicStages: `${topic}_stages`,
        topicPartitions: 3,
        topicReplicationFactor: 1,
      },
      schemasDir: SCHEMAS_DIR,
      rate: 0,
      count: events,
      ...OPTIONS,
      bufferDir,
      mysqlUrl: `${MYSQL_ROOT}/${idsDatabase}`,
      logger,
      signal: new AbortController().signal,
    });
    return { records: summary.sent, seconds: summary.runSeconds, recordsPerSec: summary.sent / summary.runSeconds };
  } finally {
    await rm(bufferDir, { recursive: true, force: true });
    await dropBenchDatabase(idsDatabase);
  }
}

/** One round of the generator row: ours, then the plain producer, the same number of events. */
export interface GeneratorRound {
  readonly ours: Throughput;
  readonly baseline: Throughput;
}

/**
 * `kappa ingest --count N --rate 0` in-process against the bench broker (generation and delivery,
 * after start-up), next to a plain kafkajs producer sending the same encoded events with the same
 * settings (idempotent, acks=all, gzip, batches of 2000, one at a time) — the difference is the
 * disk buffer and the bookkeeping. Both run once untimed first, into a topic of their own; then
 * `rounds` rounds of the two in turn (a single sample read 0.67–0.86 on the same code from one
 * whole run to the next). The first round writes `bench-events`, which the enrichment rows read;
 * later rounds write topics of their own, so the enrichment reads the same 2 × N records.
 */
export async function benchGenerator(
  kafka: Kafka,
  brokers: readonly string[],
  events: number,
  logger: Logger,
  rounds = 3,
): Promise<{ rounds: GeneratorRound[]; registryUrl: string; close: () => Promise<void> }> {
  const registry = await startRegistry({
    brokers,
    topic: '_bench_schemas',
    replicationFactor: 1,
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  try {
    const latest = (await loadSchemaHistories(SCHEMAS_DIR))
      .find((history) => history.name === 'events')
      ?.versions.at(-1);
    const type = parseAvro(latest?.schema ?? '"null"');
    // The same records as the generator's, byte for byte: its two writer headers included (a writer
    // id of the same length as claimWriterFolder's).
    const headers = generatorHeaders('writer-000000000000');
    const baseline = async (topic: string, count: number): Promise<Throughput> => {
      const schemaId = (await registry.service.lookup(`${topic}-value`, latest?.schema ?? '')).id;
      const now = Date.now();
      const messages = Array.from({ length: count }, (_, id) => ({
        key: String(id),
        value: encodeWithSchemaId(schemaId, type, makeEvent(id, now, OPTIONS)),
        partition: id % 3,
        headers,
      }));
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const started = process.hrtime.bigint();
      for (let at = 0; at < messages.length; at += CHUNK) {
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.GZIP,
          messages: messages.slice(at, at + CHUNK),
        });
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await producer.disconnect();
      return { records: count, seconds, recordsPerSec: count / seconds };
    };
    // Both sides once, untimed, into a topic of their own: the side measured first ran its code
    // cold while the other found kafkajs's encoder and gzip warm (bench/README.md, sixth pass).
    const warmUp = Math.min(WARM_UP_EVENTS, events);
    await timedIngest(kafka, registry.url, 'bench-warm-up', warmUp, logger);
    await baseline('bench-warm-up', warmUp);
    const done: GeneratorRound[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const topic = round === 0 ? 'bench-events' : `bench-generator-${round}`;
      const ours = await timedIngest(kafka, registry.url, topic, events, logger);
      done.push({ ours, baseline: await baseline(topic, events) });
    }
    return {
      rounds: done,
      // The registry stays up for the enrichment bench, which reads what the generator wrote.
      registryUrl: registry.url,
      close: () => registry.close(),
    };
  } catch (error) {
    await registry.close();
    throw error;
  }
}
