import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { createConnection } from 'mysql2/promise';
import { MYSQL_ROOT } from './bench-database.js';
import { versionSettings } from '../model/version-settings.js';
import { runAggregate } from '../aggregates/run.js';
import { registerEventsSchema } from '../ingest/events-schema.js';
import { Partitioners } from '../kafka/kafkajs.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { formatEventTime } from '../shared/event-time.js';
import type { Logger } from '../shared/logger.js';
import { loadStaticTable } from '../stages/enrich/static-tables.js';
import { runEnrich } from '../stages/enrich/run.js';

const ZONE = 'Asia/Seoul';
/**
 * Event times are whole seconds and the bench's single producer sends in time order, so nothing
 * here is late; the 2 s watermark is the wait the measured latency includes (a late event would
 * never reach its window's total, and the window would drop out of the measurement).
 */
const WATERMARK_DELAY_MS = 2_000;

export interface LatencyFigures {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentiles(values: number[]): LatencyFigures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { samples: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** Plain kafkajs: produce at `rate`/s and consume (eachMessage), latency from send to receipt. */
async function kafkaRoundTrip(kafka: Kafka, topic: string, count: number, rate: number): Promise<LatencyFigures> {
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    .finally(() => admin.disconnect());
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: ({ message }) => {
        const sent = sentAt.get(message.key?.toString() ?? '');
        if (sent !== undefined) latencies.push(Date.now() - sent);
        if (latencies.length >= count) resolve();
        return Promise.resolve();
      },
    });
  });
  await sleep(3_000); // the group join
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  for (let id = 0; id < count; id += 1) {
    sentAt.set(String(id), Date.now());
    await producer.send({ topic, acks: -1, messages: [{ key: String(id), value: Buffer.alloc(100) }] });
    await sleep(1_000 / rate);
  }
  await Promise.race([received, sleep(30_000)]);
  await producer.disconnect();
  await consumer.disconnect();
  return percentiles(latencies);
}

/**
 * End-to-end latency: an event produced to `events` → its window's row visible in MySQL, through
 * the enrichment (transactions) and the aggregator (window 1 s, watermark 2 s: up to 3 s of the
 * latency is the wait the settings ask for). An event's latency runs from its send to the first moment its
 * window's total in MySQL counts every event of that window (all partitions closed it). Baseline:
 * kafkajs produce → consume on the same broker at the same rate.
 */
export async function benchLatency(
  kafka: Kafka,
  registryUrl: string,
  logger: Logger,
  count = 3_000,
  rate = 200,
): Promise<{ ours: LatencyFigures; baseline: LatencyFigures }> {
  const baseline = await kafkaRoundTrip(kafka, 'lat-baseline', count, rate);
  const schemasDir = fileURLToPath(new URL('../../schemas', import.meta.url));
  const dataDir = fileURLToPath(new URL('../../data/', import.meta.url));
  const topics = {
    topicEvents: 'lat-events',
    topicStages: 'lat-stages',
    topicPartitions: 3,
    topicReplicationFactor: 1,
  };
  const database = `kappa_bench_latency_${Date.now()}`;
  const root = await createConnection({ uri: MYSQL_ROOT, timezone: 'Z' });
  await root.query(`CREATE DATABASE \`${database}\``);
  const stop = new AbortController();
  const quiet = logger.child({}, { level: 'error' });
  try {
    const { id: schemaId, type } = await registerEventsSchema({ schemasDir, registryUrl, topic: topics.topicEvents });
    const tables = {
      names: await loadStaticTable(`${dataDir}names.jsonl`, 'uid'),
      depts: await loadStaticTable(`${dataDir}depts.jsonl`, 'did'),
      maleLabel: 'M',
      femaleLabel: 'F',
    };
    const stages = Promise.all([
      runEnrich({
        kafka,
        registryUrl,
        topics,
        schemasDir,
        tables,
        badRecords: 'fail',
        timeZone: ZONE,
        maxFutureMs: DEFAULT_MAX_FUTURE_MS,
        logger: quiet,
        signal: stop.signal,
      }),
      runAggregate({
        kafka,
        registryUrl,
        mysqlUrl: `${MYSQL_ROOT}/${database}`,
        topicPartitions: 3,
        topicReplicationFactor: 1,
        schemasDir,
        version: 'v1',
        settings: versionSettings({
          window: 1_000,
          slide: 1_000,
          watermarkDelay: WATERMARK_DELAY_MS,
          dims: ['user'],
          timeZone: ZONE,
          topicStages: 'lat-stages',
        }),
        logger: quiet,
        signal: stop.signal,
      }),
    ]);
    await sleep(5_000); // topics, schemas, group joins

    const sentAt: number[] = [];
    const windowOf: number[] = [];
    const expected = new Map<number, number>();
    const visibleAt = new Map<number, number>();
    let polling = true;
    const poller = (async () => {
      const mysql = await createConnection({ uri: `${MYSQL_ROOT}/${database}`, timezone: 'Z' });
      try {
        while (polling) {
          const [rows] = await mysql
            .query('SELECT window_start, SUM(count) AS total FROM events_users_v1 GROUP BY window_start')
            .catch(() => [[]]);
          const now = Date.now();
          for (const row of rows as { window_start: Date; total: string | number }[]) {
            const start = row.window_start.getTime();
            if (!visibleAt.has(start) && Number(row.total) >= (expected.get(start) ?? Number.POSITIVE_INFINITY))
              visibleAt.set(start, now);
          }
          await sleep(20);
        }
      } finally {
        await mysql.end();
      }
    })();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    for (let id = 0; id < count; id += 1) {
      const now = Date.now();
      const second = Math.floor(now / 1_000) * 1_000;
      sentAt.push(now);
      windowOf.push(second);
      expected.set(second, (expected.get(second) ?? 0) + 1);
      await producer.send({
        topic: 'lat-events',
        acks: -1,
        messages: [
          {
            key: String(id),
            partition: id % 3,
            value: encodeWithSchemaId(schemaId, type, {
              id,
              hello: 'latency',
              time: formatEventTime(now, ZONE),
              event_ts: now,
            }),
          },
        ],
      });
      await sleep(1_000 / rate);
    }
    // Every window but the last can close (the last one has no later event).
    const lastWindow = Math.max(...windowOf);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && [...expected.keys()].some((start) => start !== lastWindow && !visibleAt.has(start)))
      await sleep(100);
    polling = false;
    await poller;
    await producer.disconnect();
    stop.abort();
    await stages;
    const latencies = sentAt.flatMap((sent, id) => {
      const visible = visibleAt.get(windowOf[id] ?? 0);
      return windowOf[id] === lastWindow || visible === undefined ? [] : [visible - sent];
    });
    return { ours: percentiles(latencies), baseline };
  } finally {
    stop.abort();
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.end();
  }
}
