import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { REPLAY_BASE_MS } from './api-tables.js';
import { withBenchDatabase } from './bench-database.js';
import type { ReplayReport, ReplayRequest } from './replay-child.js';
import { parseAvro } from '../registry/avro-schema.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { formatEventTime } from '../shared/event-time.js';
import type { Logger } from '../shared/logger.js';
import { enrich } from '../stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../stages/enrich/sample-tables.js';
import type { Throughput } from './kafkajs-baseline.js';
import { KAPPA_NODE_FLAGS } from '../shared/node-flags.js';
import { compiledBenchChild } from './compiled-child.js';

/**
 * Runs one replay in a process of its own (replay-child.ts, what `kappa aggregate` / `kappa recover`
 * run, compiled as `kappa` is and with the node flags `kappa` runs with), so the peak RSS it
 * reports is the replay's alone.
 */
export function replayInChild(request: ReplayRequest, logger: Logger): Promise<ReplayReport> {
  const child = fork(compiledBenchChild('replay-child'), [JSON.stringify(request)], {
    // BENCH_REPLAY_NODE_FLAGS: node flags for the replay process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    execArgv: [...KAPPA_NODE_FLAGS, ...(process.env['BENCH_REPLAY_NODE_FLAGS'] ?? '').split(' ').filter(Boolean)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let report: ReplayReport | undefined;
    child.on('message', (message) => (report = message as ReplayReport));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (report !== undefined) resolve(report);
      else reject(new Error(`the ${request.mode} replay ended (${signal ?? `exit ${code}`}) without a report`));
    });
    logger.info({ mode: request.mode, version: request.version, pid: child.pid }, 'replay started in a child process');
  });
}

/** What both replay rows read: the topic of `events` records, through the bench's broker and registry. */
function replaySource(brokers: readonly string[], registryUrl: string, topic: string, events: number) {
  return { brokers, registryUrl, topic, events, schemasDir: fileURLToPath(new URL('../../schemas', import.meta.url)) };
}

function throughputOf(report: ReplayReport): Throughput {
  return { records: report.records, seconds: report.seconds, recordsPerSec: report.records / report.seconds };
}

/** `events` enriched records with times 1 ms apart (1,000 s of event time), straight into a topic. */
export async function fillStages(kafka: Kafka, topic: string, schemaId: number, events: number): Promise<void> {
  const schema = readFileSync(fileURLToPath(new URL('../../schemas/events_stages/v1.avsc', import.meta.url)), 'utf8');
  const type = parseAvro(schema);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let from = 0; from < events; from += 10_000) {
    const messages = Array.from({ length: Math.min(10_000, events - from) }, (_, index) => {
      const enriched = enrich(
        { id: from + index, hello: 'x', time: formatEventTime(REPLAY_BASE_MS + from + index, 'Asia/Seoul') },
        SAMPLE_TABLES,
      );
      return { key: String(enriched.user_id), value: encodeWithSchemaId(schemaId, type, enriched) };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

/** One round of the replay rows: the baseline, then v1 and v2 into a fresh database. */
export interface ReplayRound {
  readonly baseline: Throughput;
  readonly ours: Throughput;
  readonly recover: Throughput;
  readonly peakRssMiB: number;
  readonly retries: number;
  readonly recoverPeakRssMiB: number;
  readonly recoverRetries: number;
}

/**
 * `kappa aggregate` over a replay of `events` enriched records (window 10 s, watermark 15 s, all
 * three dimensions, MariaDB at 127.0.0.1:3306), next to consuming and decoding the same records,
 * `rounds` times in turn: on this VM the baseline alone moved 476k-567k ev/s from one run to the next.
 */
export async function benchAggregate(
  kafka: Kafka,
  registryUrl: string,
  schemaId: number,
  events: number,
  logger: Logger,
  brokers: readonly string[],
  rounds = 3,
): Promise<{ rounds: ReplayRound[] }> {
  const topic = 'bench-stages-replay';
  await fillStages(kafka, topic, schemaId, events);
  const done: ReplayRound[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // The baseline in a fresh process like the replays' (same node flags, nothing warmed up): in the
    // bench's own process it ran after the client rows had run kafkajs's decoder 3,000,000 times.
    const baseline = throughputOf(
      await replayInChild(
        { ...replaySource(brokers, registryUrl, topic, events), mysqlUrl: '', mode: 'decode', version: '', delayMs: 0 },
        logger,
      ),
    );
    // `kappa aggregate --version v1` (watermark 15 s), timed from its first record; then
    // `kappa recover --to v2 --watermark 60s --until-caught-up`: wall time from offset 0 to caught
    // up, start-up, group join and lag checks included. Later rounds name them v3 and v4, v5 and
    // v6: versions new to Kafka too (their groups hold no offsets of an earlier round).
    const [first, second] = [`v${2 * round + 1}`, `v${2 * round + 2}`];
    const [v1, v2] = await withBenchDatabase('kappa_bench', async (mysqlUrl) => {
      const replay = (mode: ReplayRequest['mode'], version: string, delayMs: number) =>
        replayInChild(
          { ...replaySource(brokers, registryUrl, topic, events), mysqlUrl, mode, version, delayMs },
          logger,
        );
      return [await replay('aggregate', first, 15_000), await replay('recover', second, 60_000)] as const;
    });
    done.push({
      baseline,
      ours: throughputOf(v1),
      recover: throughputOf(v2),
      peakRssMiB: v1.peakRssMiB,
      retries: v1.retries,
      recoverPeakRssMiB: v2.peakRssMiB,
      recoverRetries: v2.retries,
    });
  }
  return { rounds: done };
}

/**
 * A long replay (`kappa aggregate` v1, window 10 s, watermark 15 s, in its own process) of `events`
 * records into a fresh database: its events/s next to the 1,000,000-event row says whether the cost
 * per event grows with the log, its peak RSS whether memory does.
 */
export async function benchLongReplay(
  kafka: Kafka,
  registryUrl: string,
  schemaId: number,
  events: number,
  logger: Logger,
  brokers: readonly string[],
) {
  const topic = `bench-stages-replay-${events}`;
  await fillStages(kafka, topic, schemaId, events);
  const report = await withBenchDatabase('kappa_bench_long', (mysqlUrl) =>
    replayInChild(
      {
        ...replaySource(brokers, registryUrl, topic, events),
        mysqlUrl,
        mode: 'aggregate',
        version: 'v1',
        delayMs: 15_000,
      },
      logger,
    ),
  );
  return { ours: throughputOf(report), peakRssMiB: report.peakRssMiB, retries: report.retries };
}
