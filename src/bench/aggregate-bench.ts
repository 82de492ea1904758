import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { createConnection } from 'mysql2/promise';
import { versionSettings } from '../aggregates/version-settings.js';
import { runAggregate, type AggregateMetrics } from '../aggregates/run.js';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import type { AggregateSink } from '../aggregates/sink.js';
import { runRecover } from '../recovery/recover.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { parseAvro } from '../registry/avro-schema.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { formatEventTime } from '../shared/event-time.js';
import type { Logger } from '../shared/logger.js';
import { enrich, type EnrichedEvent } from '../stages/enrich/rules.js';
import type { Throughput } from './kafkajs-baseline.js';

const MYSQL_ROOT = 'mysql://root@127.0.0.1:3306';

/**
 * The process's peak RSS while one replay runs (sampled every 20 ms), in MiB: what the replay
 * itself needs, not what earlier rows of the bench left behind in `maxRSS`.
 */
function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.round(Math.max(peak, process.memoryUsage.rss()) / 2 ** 20);
    },
  };
}

/** `events` enriched records with times 1 ms apart (1,000 s of event time), straight into a topic. */
export async function fillStages(kafka: Kafka, topic: string, schemaId: number, events: number): Promise<void> {
  const schema = readFileSync(fileURLToPath(new URL('../../schemas/events_stages/v1.avsc', import.meta.url)), 'utf8');
  const type = parseAvro(schema);
  const tables = {
    names: new Map([
      [0, 'Kim'],
      [1, 'Lee'],
      [2, 'Kim'],
    ]),
    depts: new Map([[0, 'Data']]),
    maleLabel: 'M',
    femaleLabel: 'F',
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const base = Date.UTC(2026, 10, 22, 11, 0, 0);
  for (let from = 0; from < events; from += 10_000) {
    const messages = Array.from({ length: Math.min(10_000, events - from) }, (_, index) => {
      const enriched = enrich(
        { id: from + index, hello: 'x', time: formatEventTime(base + from + index, 'Asia/Seoul') },
        tables,
      );
      return { key: String(enriched.user_id), value: encodeWithSchemaId(schemaId, type, enriched) };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

/** The baseline: consume and decode every record (same decoder), nothing else. */
export async function consumeAndDecode(
  kafka: Kafka,
  registryUrl: string,
  topic: string,
  events: number,
): Promise<Throughput> {
  const schema = readFileSync(fileURLToPath(new URL('../../schemas/events_stages/v1.avsc', import.meta.url)), 'utf8');
  const decoder = new AvroDecoder<EnrichedEvent>(registryUrl, schema);
  const consumer = kafka.consumer({ groupId: `bench-decode-${randomUUID()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch }) => {
          if (first === 0) first = Date.now();
          for (const message of batch.messages) await decoder.decode(message.value);
          seen += batch.messages.length;
          if (seen >= events) resolve();
        },
      })
      .catch(reject);
  });
  const seconds = (Date.now() - first) / 1_000;
  await consumer.disconnect();
  return { records: events, seconds, recordsPerSec: events / seconds };
}

/**
 * `kappa aggregate` over a replay of `events` enriched records (window 10 s, watermark 15 s, all
 * three dimensions, MariaDB at 127.0.0.1:3306), next to consuming and decoding the same records.
 */
export async function benchAggregate(
  kafka: Kafka,
  registryUrl: string,
  schemaId: number,
  events: number,
  logger: Logger,
) {
  const topic = 'bench-stages-replay';
  await fillStages(kafka, topic, schemaId, events);
  const baseline = await consumeAndDecode(kafka, registryUrl, topic, events);

  const database = `kappa_bench_${Date.now()}`;
  const root = await createConnection({ uri: MYSQL_ROOT });
  await root.query(`CREATE DATABASE \`${database}\``);
  try {
    const metrics: AggregateMetrics = { in: 0, late: 0, rows: 0, bad: 0 };
    const controller = new AbortController();
    const started = Date.now();
    const job = {
      kafka,
      registryUrl,
      mysqlUrl: `${MYSQL_ROOT}/${database}`,
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: fileURLToPath(new URL('../../schemas', import.meta.url)),
      logger,
    };
    const settings = (watermark: number) =>
      versionSettings({ window: 10_000, slide: 10_000, watermark, timeZone: 'Asia/Seoul', topicStages: topic });
    let sink: AggregateSink | undefined;
    const replayRss = sampleRss();
    const run = runAggregate({
      ...job,
      version: 'v1',
      settings: settings(15_000),
      signal: controller.signal,
      metrics,
      onSink: (opened) => (sink = opened),
    });
    let firstAt = 0;
    while (metrics.in < events) {
      await Promise.race([sleep(20), run]);
      if (firstAt === 0 && metrics.in > 0) firstAt = Date.now();
    }
    const seconds = (Date.now() - (firstAt || started)) / 1_000;
    controller.abort();
    await run;
    const ours: Throughput = { records: events, seconds, recordsPerSec: events / seconds };
    const peakRssMiB = replayRss.stop();
    const retries = sink instanceof MySqlSink ? sink.retries : 0;

    // `kappa recover --to v2 --watermark 60s --until-caught-up`: wall time from offset 0 to caught
    // up, group join and lag checks included.
    const recoverStarted = Date.now();
    const recoverRss = sampleRss();
    let recoverSink: AggregateSink | undefined;
    const recovered = await runRecover({
      ...job,
      version: 'v2',
      settings: settings(60_000),
      signal: new AbortController().signal,
      untilCaughtUp: true,
      checkEveryMs: 100,
      onSink: (opened) => (recoverSink = opened),
    });
    const recoverPeakRssMiB = recoverRss.stop();
    const recoverRetries = recoverSink instanceof MySqlSink ? recoverSink.retries : 0;
    const recoverSeconds = (Date.now() - recoverStarted) / 1_000;
    const recover: Throughput = {
      records: recovered.metrics.in,
      seconds: recoverSeconds,
      recordsPerSec: recovered.metrics.in / recoverSeconds,
    };
    return {
      ours,
      baseline,
      recover,
      rows: metrics.rows,
      peakRssMiB,
      retries,
      recoverPeakRssMiB,
      recoverRetries,
    };
  } finally {
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.end();
  }
}
