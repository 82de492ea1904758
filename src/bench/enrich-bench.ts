import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { newEnrichMetrics, runEnrich } from '../stages/enrich/run.js';
import { loadStaticTable } from '../stages/enrich/static-tables.js';
import type { Logger } from '../shared/logger.js';
import type { Throughput } from './kafkajs-baseline.js';
import { transactionalCopier } from './perf-tools.js';

async function recordsIn(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

/**
 * This process's CPU time (user + system) per record: on a shared VM, where wall-clock figures move
 * 2× between runs, the CPU a stage spends per record is the steadier figure for comparing changes.
 */
function cpuPerRecord(cpu: NodeJS.CpuUsage, records: number): number {
  return (cpu.user + cpu.system) / records;
}

/** runEnrich in-process over the whole input topic into `output`; timed from its first record. */
async function timedEnrich(
  kafka: Kafka,
  registryUrl: string,
  input: string,
  output: string,
  transactional: boolean,
  total: number,
  logger: Logger,
): Promise<Throughput & { cpuMicrosPerRecord: number }> {
  const data = (file: string) => fileURLToPath(new URL(`../../data/${file}`, import.meta.url));
  const [names, depts] = await Promise.all([
    loadStaticTable(data('names.jsonl'), 'uid'),
    loadStaticTable(data('depts.jsonl'), 'did'),
  ]);
  const metrics = newEnrichMetrics();
  const controller = new AbortController();
  const run = runEnrich({
    kafka,
    registryUrl,
    topics: { topicEvents: input, topicStages: output, topicPartitions: 3, topicReplicationFactor: 1 },
    schemasDir: fileURLToPath(new URL('../../schemas', import.meta.url)),
    tables: { names, depts, maleLabel: '남성', femaleLabel: '여성' },
    badRecords: 'dead-letter',
    timeZone: 'Asia/Seoul',
    maxFutureMs: DEFAULT_MAX_FUTURE_MS,
    logger,
    signal: controller.signal,
    transactional,
    metrics,
  });
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  while (metrics.out + metrics.dlq < total) {
    await Promise.race([sleep(20), run]);
    if (cpuAtFirst === undefined && metrics.firstRecordAt !== 0) cpuAtFirst = process.cpuUsage();
  }
  const seconds = (Date.now() - metrics.firstRecordAt) / 1_000;
  const cpu = process.cpuUsage(cpuAtFirst);
  controller.abort();
  await run;
  return { records: total, seconds, recordsPerSec: total / seconds, cpuMicrosPerRecord: cpuPerRecord(cpu, total) };
}

/** The baseline: a plain kafkajs consumer copying the same records to another topic, no decoding. */
async function plainCopy(
  kafka: Kafka,
  input: string,
  output: string,
  total: number,
): Promise<Throughput & { cpuMicrosPerRecord: number }> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: output, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({ groupId: `bench-copy-${output}`, maxWaitTimeInMs: 250 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  let copied = 0;
  let first = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  const done = new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch }) => {
          if (first === 0) {
            first = Date.now();
            cpuAtFirst = process.cpuUsage();
          }
          // Slices of 2,000 like the stage's transactions (a whole decompressed batch exceeds the request size).
          for (let start = 0; start < batch.messages.length; start += 2_000) {
            const slice = batch.messages.slice(start, start + 2_000);
            await producer.send({
              topic: output,
              messages: slice.map((message) => ({ key: message.key, value: message.value })),
            });
          }
          copied += batch.messages.length;
          if (copied >= total) resolve();
        },
      })
      .catch(reject);
  });
  await done;
  const seconds = (Date.now() - first) / 1_000;
  const cpu = process.cpuUsage(cpuAtFirst);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return { records: total, seconds, recordsPerSec: total / seconds, cpuMicrosPerRecord: cpuPerRecord(cpu, total) };
}

/** Where Kafka's TransactionalMessageCopier runs: the tools' jars and the broker, as the other anchors. */
export interface CopierAnchor {
  readonly libs: string;
  readonly brokers: readonly string[];
  /** Records per transaction (the copier's max.poll.records). */
  readonly transactionSize: number;
}

/** The copier's output: created first with the input's partition count (it writes to the same partition). */
async function copierOutput(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    .finally(() => admin.disconnect());
}

/**
 * Enrichment with transactions (exactly once), without (at least once), the plain-copy baseline and
 * Kafka's own transactional copier over the same records, `rounds` times in turn (each round
 * writes new topics with new groups): the ratios are taken per round, so the load's drift on a
 * shared machine reaches both sides of a ratio alike. Each round opens with an untimed run, and
 * exactly once goes first in odd rounds, at least once in even ones.
 */
export async function benchEnrich(
  kafka: Kafka,
  registryUrl: string,
  input: string,
  logger: Logger,
  { rounds = 3, copier }: { rounds?: number; copier?: CopierAnchor | undefined } = {},
) {
  const total = await recordsIn(kafka, input);
  const measured: {
    eos: Throughput & { cpuMicrosPerRecord: number };
    atLeastOnce: Throughput & { cpuMicrosPerRecord: number };
    baseline: Throughput & { cpuMicrosPerRecord: number };
    copier?: Throughput;
  }[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const out = (kind: string) => `${input}-${kind}-r${round}`;
    logger.info({ round, total }, 'enrichment round: exactly once, at least once, plain copy, Kafka copier');
    // The first run of a round measured 15-25 % slower, whichever mode it was (bench/README.md, sixth
    // pass): an untimed run opens the round, and the two modes take turns going first.
    await timedEnrich(kafka, registryUrl, input, out('warm-up'), false, total, logger);
    const enrich = (transactional: boolean) =>
      timedEnrich(
        kafka,
        registryUrl,
        input,
        out(transactional ? 'stages-eos' : 'stages-plain'),
        transactional,
        total,
        logger,
      );
    const eosFirst = round % 2 === 1;
    const first = await enrich(eosFirst);
    const second = await enrich(!eosFirst);
    const [eos, atLeastOnce] = eosFirst ? [first, second] : [second, first];
    const baseline = await plainCopy(kafka, input, out('copy'), total);
    let java: Throughput | undefined;
    if (copier !== undefined) {
      await copierOutput(kafka, out('java-copy'));
      java = await transactionalCopier({ ...copier, topic: input, output: out('java-copy'), records: total });
    }
    measured.push({ eos, atLeastOnce, baseline, ...(java === undefined ? {} : { copier: java }) });
  }
  return { total, rounds: measured };
}
