/**
 * `npm run bench`: every kappa figure next to a baseline measured in the same run on the same
 * throw-away broker, printed as a table and written to bench/results/<timestamp>.json.
 *
 * Today it measures the client floor everything else stands on: a plain kafkajs producer and
 * consumer against Apache Kafka's own kafka-producer-perf-test / kafka-consumer-perf-test. Later
 * stages (generator, enrichment, aggregation, replay, API) add their rows here.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { createLogger } from '../shared/logger.js';
import { requireJava } from '../stack/java.js';
import { ensureKafkaJars } from '../stack/kafka-jars.js';
import { startThrowawayBroker } from '../stack/throwaway-broker.js';
import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { benchAggregate, benchLongReplay } from './aggregate-bench.js';
import { benchApi } from './api-bench.js';
import { benchCli } from './cli-bench.js';
import { fillApiTables } from './api-tables.js';
import { withBenchDatabase } from './bench-database.js';
import { benchLatency } from './latency-bench.js';
import { benchPipeline } from './pipeline-bench.js';
import { benchLateness } from './lateness-bench.js';
import { benchVerify } from './verify-bench.js';
import { benchEnrich } from './enrich-bench.js';
import { benchGenerator } from './generator-bench.js';
import { startRegistry } from '../registry/server.js';
import { kafkajsConsume, kafkajsProduce } from './kafkajs-baseline.js';
import { consumerPerfTest, producerPerfTest } from './perf-tools.js';
import { formatTable, ratio, type BenchRow } from './report.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    'record-size': { type: 'string', default: '100' },
    'pipeline-seconds': { type: 'string', default: '60' },
    // The aggregate group's replay (default: the larger of 1,000,000 and --records) and its long
    // replay (0: skipped), which shows whether the cost per event and the memory stay flat.
    'replay-events': { type: 'string' },
    'long-replay-events': { type: 'string', default: '5000000' },
    // Row groups to run (comma-separated): cli, client, generator, enrich, aggregate, api, verify, latency, pipeline.
    // Default: all. enrich and pipeline need generator (enrich reads what it wrote; pipeline compares
    // with its rate); api fills its own tables (those the aggregate row's replay leaves).
    // A directory: the API row's server runs under `node --cpu-prof`, its profile written there.
    'cpu-prof-api': { type: 'string' },
    only: { type: 'string', default: 'cli,client,generator,enrich,aggregate,api,verify,latency,pipeline' },
    // Rounds of the cli group (each: node -e 0, kappa --help, kappa status).
    'cli-runs': { type: 'string', default: '10' },
  },
});
const only = new Set((values.only ?? '').split(',').map((group) => group.trim()));
const want = (group: string) => only.has(group);
const records = Number(values.records);
const generatorEvents = Math.min(records, 200_000);
const aggregateEvents =
  values['replay-events'] === undefined ? Math.max(1_000_000, records) : Number(values['replay-events']);
const longReplayEvents = Number(values['long-replay-events']);
const recordSize = Number(values['record-size']);
const pipelineSeconds = Number(values['pipeline-seconds']);
for (const group of ['enrich', 'pipeline'])
  if (want(group) && !want('generator')) {
    process.stderr.write(`bench: --only ${group} needs generator too\n`);
    process.exit(2);
  }
if (!Number.isInteger(records) || records < 1_000 || !Number.isInteger(recordSize) || recordSize < 1) {
  process.stderr.write('bench: --records must be a whole number ≥ 1000 and --record-size ≥ 1\n');
  process.exit(2);
}
if (
  !Number.isInteger(aggregateEvents) ||
  aggregateEvents < 1_000 ||
  !Number.isInteger(longReplayEvents) ||
  longReplayEvents < 0
) {
  process.stderr.write('bench: --replay-events must be a whole number ≥ 1000 and --long-replay-events ≥ 0\n');
  process.exit(2);
}

const logger = createLogger('info', 'bench');
const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
const libs = await ensureKafkaJars(config.cacheDir, config.kafkaVersion, logger);
const broker = await startThrowawayBroker({
  cacheDir: config.cacheDir,
  version: config.kafkaVersion,
  heap: '1g',
  logger,
});
const rows: BenchRow[] = [];
const details: Record<string, unknown> = {};

try {
  const kafka = createKafka({ brokers: broker.brokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  if (want('cli')) {
    logger.info('the compiled CLI: kappa --help, kappa status, node -e 0');
    const cli = await withBenchDatabase('kappa_bench_cli', (mysqlUrl) =>
      benchCli({ brokers: broker.brokers, mysqlUrl, runs: Number(values['cli-runs']) }),
    );
    for (const [name, timing] of [
      ['kappa --help', cli.help],
      ['kappa status (empty catalog; kafkajs and mysql2 loaded, broker and MySQL asked)', cli.status],
    ] as const)
      rows.push({
        name: `${name}: start to exit, compiled CLI (CPU ${timing.cpuSeconds.toFixed(2)} s; node -e 0: ${cli.node.cpuSeconds.toFixed(2)} s)`,
        value: timing.wallSeconds * 1_000,
        unit: 'ms',
        baseline: { name: 'node -e 0', value: cli.node.wallSeconds * 1_000 },
      });
    Object.assign(details, { cli });
  }
  if (want('client')) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: ['bench-java', 'bench-kafkajs'].map((topic) => ({ topic, numPartitions: 3 })),
    });
    await admin.disconnect();

    logger.info({ records, recordSize }, 'kafka-producer-perf-test');
    const javaProduce = await producerPerfTest(
      { libs, brokers: broker.brokers, topic: 'bench-java', records },
      recordSize,
    );
    logger.info({ records, recordSize }, 'kafkajs producer');
    const jsProduce = await kafkajsProduce(kafka, 'bench-kafkajs', records, recordSize);
    rows.push({
      name: `produce ${recordSize} B, acks=all (kafkajs)`,
      value: jsProduce.recordsPerSec,
      unit: 'rec/s',
      baseline: { name: 'kafka-producer-perf-test', value: javaProduce.recordsPerSec },
    });

    logger.info({ records }, 'kafka-consumer-perf-test');
    const javaConsume = await consumerPerfTest({ libs, brokers: broker.brokers, topic: 'bench-java', records });
    logger.info({ records }, 'kafkajs consumer');
    const jsConsume = await kafkajsConsume(kafka, 'bench-java', records);
    rows.push({
      name: 'consume from offset 0 (kafkajs eachBatch)',
      value: jsConsume.recordsPerSec,
      unit: 'rec/s',
      baseline: { name: 'kafka-consumer-perf-test', value: javaConsume.recordsPerSec },
    });
    Object.assign(details, { javaProduce, jsProduce, javaConsume, jsConsume });
  }

  let registryUrl: string;
  let closeRegistry: () => Promise<void>;
  let generatorRate: number | undefined;
  if (want('generator')) {
    logger.info({ events: generatorEvents }, 'kappa ingest (generator)');
    const {
      registryUrl: url,
      close,
      ...generator
    } = await benchGenerator(kafka, broker.brokers, generatorEvents, logger);
    registryUrl = url;
    closeRegistry = close;
    generatorRate = generator.ours.recordsPerSec;
    rows.push({
      name: 'kappa ingest: generator, disk buffer, gzip, idempotent',
      value: generator.ours.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs producer, same bytes and settings', value: generator.baseline.recordsPerSec },
    });
    Object.assign(details, { generator });
  } else {
    const registry = await startRegistry({
      brokers: broker.brokers,
      topic: '_bench_schemas',
      replicationFactor: 1,
      host: '127.0.0.1',
      port: 0,
      logger,
    });
    registryUrl = registry.url;
    closeRegistry = () => registry.close();
  }

  if (want('enrich')) {
    logger.info('kappa enrich: with and without transactions');
    const enrichment = await benchEnrich(kafka, registryUrl, 'bench-events', logger);
    rows.push({
      name: `kappa enrich, exactly once (transactions), ${enrichment.total} events`,
      value: enrichment.eos.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs consume + produce, no decoding', value: enrichment.baseline.recordsPerSec },
    });
    rows.push({
      name: 'kappa enrich, at least once (no transactions)',
      value: enrichment.atLeastOnce.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs consume + produce, no decoding', value: enrichment.baseline.recordsPerSec },
    });
    Object.assign(details, { enrichment });
  }

  if (want('aggregate')) {
    logger.info({ events: aggregateEvents }, 'kappa aggregate: replay into MySQL');
    const stagesSchema = readFileSync(new URL('../../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
    const { id: stagesId } = await new SchemaRegistry({ host: registryUrl }).register(
      { type: SchemaType.AVRO, schema: stagesSchema },
      { subject: 'bench-stages-replay-value' },
    );
    const aggregation = await benchAggregate(kafka, registryUrl, stagesId, aggregateEvents, logger, broker.brokers);
    rows.push({
      name: `kappa aggregate v1 → MySQL, replay of ${aggregation.ours.records} events (replay peak RSS ${aggregation.peakRssMiB} MiB, ${aggregation.retries} commit retries)`,
      value: aggregation.ours.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs consume + Avro decode only', value: aggregation.baseline.recordsPerSec },
    });
    rows.push({
      name: `kappa recover v2 (watermark 60 s), offset 0 → caught up, ${aggregation.recover.records} events, start-up included (peak RSS ${aggregation.recoverPeakRssMiB} MiB, ${aggregation.recoverRetries} commit retries)`,
      value: aggregation.recover.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs consume + Avro decode only', value: aggregation.baseline.recordsPerSec },
    });
    Object.assign(details, { aggregation });
    if (longReplayEvents > 0) {
      logger.info({ events: longReplayEvents }, 'kappa aggregate: a long replay');
      const long = await benchLongReplay(kafka, registryUrl, stagesId, longReplayEvents, logger, broker.brokers);
      rows.push({
        name: `kappa aggregate v1 → MySQL, replay of ${long.ours.records} events (replay peak RSS ${long.peakRssMiB} MiB, ${long.retries} commit retries)`,
        value: long.ours.recordsPerSec,
        unit: 'ev/s',
        baseline: {
          name: `the ${aggregation.ours.records}-event replay above (peak RSS ${aggregation.peakRssMiB} MiB)`,
          value: aggregation.ours.recordsPerSec,
        },
      });
      Object.assign(details, { longReplay: long });
    }
    logger.info({ events: aggregateEvents }, 'kappa lateness: read and analyse the same log');
    const lateness = await benchLateness(kafka, registryUrl, 'bench-stages-replay', aggregateEvents, logger);
    rows.push({
      name: `kappa lateness: offset 0 → end, ${lateness.ours.records} events, window 10 s (heap ${lateness.heapMiB} MiB)`,
      value: lateness.ours.recordsPerSec,
      unit: 'ev/s',
      baseline: { name: 'kafkajs consume + Avro decode only', value: lateness.baseline.recordsPerSec },
    });
    Object.assign(details, { lateness });
  }
  if (want('api')) {
    logger.info('kappa serve: GET /api/windows/users under load, on the tables a 1,000,000-event replay leaves');
    await withBenchDatabase('kappa_bench_api', async (mysqlUrl) => {
      await fillApiTables(mysqlUrl, 'bench-stages-replay');
      const api = await benchApi({
        brokers: broker.brokers,
        registryUrl,
        mysqlUrl,
        stagesTopic: 'bench-stages-replay',
        logger,
        profileDir: values['cpu-prof-api'],
      });
      rows.push({
        name: `kappa serve: GET /api/windows/users?limit=100, 32 connections (p99 ${api.ours.p99Ms} ms, ${api.ours.non2xx} non-2xx, ${api.requestsPerRead.toFixed(1)} requests per SQL read; medians of 3 interleaved rounds of 5 s)`,
        value: api.ours.requestsPerSec,
        unit: 'req/s',
        baseline: {
          name: `bare Fastify, constant JSON (p99 ${api.baseline.p99Ms} ms)`,
          value: api.baseline.requestsPerSec,
        },
      });
      rows.push({
        name: 'kappa serve, the same figure',
        value: api.ours.requestsPerSec,
        unit: 'req/s',
        baseline: {
          name: `bare Fastify answering the same ${api.sameBody.bytes}-byte body (p99 ${api.sameBody.p99Ms} ms)`,
          value: api.sameBody.requestsPerSec,
        },
      });
      Object.assign(details, { api });
    });
  }
  if (want('verify')) {
    logger.info('kappa verify against kappa diff, on the tables a 1,000,000-event replay leaves');
    const verify = await withBenchDatabase('kappa_bench_verify', (mysqlUrl) =>
      benchVerify(mysqlUrl, 'bench-stages-replay'),
    );
    rows.push({
      name: `kappa verify v1 v2: ${verify.windows} windows × dims, ${verify.rows} rows of the 1,000,000-event replay, ${verify.identical ? 'identical' : 'NOT identical'} (median of 3; lower is better)`,
      value: verify.verifyMs,
      unit: 'ms',
      baseline: { name: 'kappa diff v1 v2, the same tables', value: verify.diffMs },
    });
    Object.assign(details, { verify });
  }
  if (want('latency')) {
    logger.info('end-to-end latency: produced → row visible in MySQL');
    const latency = await benchLatency(kafka, registryUrl, logger);
    rows.push({
      name: `end to end p50: produced → row in MySQL (window 1 s, watermark 2 s; ${latency.ours.samples} events at 200/s)`,
      value: latency.ours.p50Ms,
      unit: 'ms',
      baseline: { name: 'kafkajs produce → consume p50', value: latency.baseline.p50Ms },
    });
    rows.push({
      name: 'end to end p99',
      value: latency.ours.p99Ms,
      unit: 'ms',
      baseline: { name: 'kafkajs produce → consume p99', value: latency.baseline.p99Ms },
    });
    Object.assign(details, { latency });
  }
  if (want('pipeline') && generatorRate !== undefined) {
    const pipeline = await benchPipeline(kafka, broker.brokers, registryUrl, logger, { seconds: pipelineSeconds });
    const last = pipeline.best.samples.at(-1);
    rows.push({
      name:
        `whole pipeline (ingest → enrich EOS → aggregate → MySQL, processes) for ${Math.round(pipeline.best.seconds)} s: ` +
        `${pipeline.best.sustained ? 'sustained' : 'NOT sustained'} (asked ${pipeline.best.rate}/s), lag at the end ` +
        `${(last?.enrichLag ?? 0) + (last?.aggregateLag ?? 0)} events`,
      value: pipeline.best.sustained ? pipeline.best.produced : pipeline.best.throughput,
      unit: 'ev/s',
      baseline: { name: 'kappa ingest alone, unthrottled', value: generatorRate },
    });
    Object.assign(details, { pipeline });
  }
  await closeRegistry();
} finally {
  await broker.stop();
}

const javaVersion = spawnSync(requireJava(), ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '';
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  java: javaVersion,
  kafka: config.kafkaVersion,
};
process.stdout.write(
  `\n${formatTable(rows)}\n\nmachine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.java}, Kafka ${machine.kafka}\n`,
);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = new URL(`../../bench/results/${stamp}.json`, import.meta.url);
await mkdir(new URL('.', file), { recursive: true });
await writeFile(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), records, recordSize, machine, rows: rows.map((row) => ({ ...row, ratio: ratio(row) })), details }, null, 2)}\n`,
);
process.stdout.write(`results: bench/results/${stamp}.json\n`);
