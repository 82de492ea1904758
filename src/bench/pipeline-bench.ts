import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { createConnection } from 'mysql2/promise';
import { MYSQL_ROOT } from './bench-database.js';
import { committedOffsets, endOffsets, type OffsetsByPartition } from '../kafka/offsets.js';
import { enrichGroup } from '../kafka/topics.js';
import { KAPPA_NODE_FLAGS } from '../shared/node-flags.js';
import type { Logger } from '../shared/logger.js';
import type { Throughput } from './kafkajs-baseline.js';

const KAPPA_BIN = fileURLToPath(new URL('../../bin/kappa.js', import.meta.url));

/** Where the pipeline stands at one instant: records behind in each stage. */
export interface PipelineSample {
  readonly atSeconds: number;
  readonly produced: number;
  /** events records not yet enriched (committed by the enrichment's transactions). */
  readonly enrichLag: number;
  /** events_stages offsets not yet aggregated (committed to MySQL by the aggregator). */
  readonly aggregateLag: number;
}

export interface PipelineRun {
  readonly rate: number;
  readonly seconds: number;
  readonly samples: readonly PipelineSample[];
  /** Events per second the generator actually wrote (it may not reach `rate` on a busy machine). */
  readonly produced: number;
  /**
   * The lag (both stages, records) at the end of the run did not exceed two seconds of what the
   * generator wrote: the stages kept up with `produced` (the generator may fall short of `rate`).
   */
  readonly sustained: boolean;
  /** Events per second that made it through the whole pipeline over the run. */
  readonly throughput: number;
}

const total = (offsets: OffsetsByPartition) => [...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0);

/**
 * A stage as its own process, as in production: `bin/kappa.js` with the node flags its shebang
 * carries (KAPPA_NODE_FLAGS), logging to a file in the run's state folder.
 */
function stage(args: readonly string[], env: Record<string, string>, label: string): ChildProcess {
  const log = openSync(join(env['KAPPA_STATE_DIR'] ?? tmpdir(), `${label}.log`), 'a');
  // BENCH_STAGE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof": profile the stage processes.
  const flags = (process.env['BENCH_STAGE_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...KAPPA_NODE_FLAGS, ...flags, KAPPA_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * One run of the whole pipeline — `kappa ingest --rate R`, `kappa enrich` (exactly once) and
 * `kappa aggregate` into MariaDB, three processes on the bench's broker — for `seconds`, sampling
 * every stage's lag every 5 s.
 */
async function runPipeline(
  target: PipelineTarget,
  rate: number,
  seconds: number,
  logger: Logger,
): Promise<PipelineRun> {
  const { kafka, brokers, registryUrl } = target;
  const name = `bench-pipe-${Date.now()}`;
  const database = `kappa_bench_pipe_${Date.now()}`;
  const root = await createConnection({ uri: MYSQL_ROOT });
  await root.query(`CREATE DATABASE \`${database}\``);
  const env: Record<string, string> = {
    KAPPA_KAFKA_BROKERS: brokers.join(','),
    KAPPA_REGISTRY_URL: registryUrl,
    KAPPA_MYSQL_URL: `${MYSQL_ROOT}/${database}`,
    KAPPA_TOPIC_EVENTS: `${name}-events`,
    KAPPA_TOPIC_STAGES: `${name}-stages`,
    KAPPA_STATE_DIR: mkdtempSync(join(tmpdir(), `${name}-`)),
    KAPPA_LOG_LEVEL: 'warn',
    KAPPA_LOG_FORMAT: 'json',
    KAPPA_TOPIC_REPLICATION: String(target.replication ?? 1),
  };
  const admin = kafka.admin();
  await admin.connect();
  const children = [
    stage(['enrich'], env, 'enrich'),
    stage(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'aggregate'),
  ];
  const samples: PipelineSample[] = [];
  try {
    let started = Date.now();
    const generator = stage(
      ['ingest', '--rate', String(rate), '--count', String(rate * (seconds + 10)), '--late-fraction', '0'],
      env,
      'ingest',
    );
    children.push(generator);
    const sample = async (): Promise<PipelineSample> => {
      const produced = total(await endOffsets(admin, env['KAPPA_TOPIC_EVENTS'] ?? ''));
      // Before the stages created the topics (or the group), nothing is enriched yet.
      const enriched = total(
        await committedOffsets(
          admin,
          enrichGroup(env['KAPPA_TOPIC_STAGES'] ?? ''),
          env['KAPPA_TOPIC_EVENTS'] ?? '',
        ).catch((): OffsetsByPartition => new Map()),
      );
      const stagesEnd = total(await endOffsets(admin, env['KAPPA_TOPIC_STAGES'] ?? ''));
      const [rows] = await root
        .query(`SELECT COALESCE(SUM(next_offset), 0) AS done FROM \`${database}\`.kappa_progress WHERE version = 'v1'`)
        .catch(() => [[{ done: 0 }]]);
      const aggregated = Number((rows as { done: string | number }[])[0]?.done ?? 0);
      return {
        atSeconds: Math.round((Date.now() - started) / 1_000),
        produced,
        enrichLag: Math.max(0, produced - enriched),
        aggregateLag: Math.max(0, stagesEnd - aggregated),
      };
    };
    // The clock starts with the first event in the log (the processes take seconds to start).
    const deadline = Date.now() + 120_000;
    while ((await sample()).produced === 0) {
      if (Date.now() > deadline || generator.exitCode !== null) throw new Error('the generator wrote nothing in 120 s');
      await sleep(200);
    }
    started = Date.now();
    while (Date.now() - started < seconds * 1_000) {
      await sleep(5_000);
      const latest = await sample();
      samples.push(latest);
      logger.info(latest, 'pipeline');
    }
    const last = samples.at(-1) ?? (await sample());
    const behind = last.enrichLag + last.aggregateLag;
    const elapsed = (Date.now() - started) / 1_000;
    const produced = last.produced / elapsed;
    return {
      rate,
      seconds: elapsed,
      samples,
      produced,
      // Nothing written is not keeping up (a generator that never got going, a cluster gone).
      sustained: last.produced > 0 && behind <= 2 * produced,
      throughput: Math.max(0, last.produced - behind) / elapsed,
    };
  } finally {
    await Promise.all(children.map(stop));
    await admin.disconnect();
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.end();
  }
}

/** Where a pipeline runs: a broker or a cluster, with the registry the stages use there. */
export interface PipelineTarget {
  readonly kafka: Kafka;
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  /** KAPPA_TOPIC_REPLICATION of the stages (default 1). */
  readonly replication?: number;
}

/**
 * The sustained whole-pipeline row: generator → enrichment (exactly once) → aggregator → MySQL,
 * together, for `seconds` at the highest rate they keep up with. Starts at `startRate`; while the
 * lag grows, tries again at 90 % of what got through (at most `attempts` runs).
 */
export async function benchPipeline(
  target: PipelineTarget,
  logger: Logger,
  { startRate = 30_000, seconds = 60, attempts = 3 } = {},
): Promise<{ best: PipelineRun; runs: readonly PipelineRun[] }> {
  const runs: PipelineRun[] = [];
  let rate = startRate;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    logger.info({ rate, seconds, brokers: target.brokers.length }, 'whole pipeline at a steady rate');
    const run = await runPipeline(target, rate, seconds, logger);
    runs.push(run);
    // Kept up with what the generator wrote: a higher asked rate would not be written any faster.
    if (run.sustained) break;
    rate = Math.max(500, Math.floor((Math.min(run.throughput, run.produced) * 0.9) / 500) * 500);
  }
  const sustained = runs.filter((run) => run.sustained);
  const best = (sustained.length > 0 ? sustained : runs).reduce((a, b) => (b.produced > a.produced ? b : a));
  return { best, runs };
}

/** What a pipeline row reports: the rate it sustained, else what got through. */
export const pipelineFigure = (run: PipelineRun): number => (run.sustained ? run.produced : run.throughput);

export interface PipelineRound {
  /** `kappa ingest` alone, unthrottled, on the one broker: the one-broker pipeline's baseline. */
  readonly generator: Throughput;
  readonly single: { best: PipelineRun; runs: readonly PipelineRun[] };
  /** The same pipeline on the cluster (replication factor 3, acks=all), when one is given. */
  readonly cluster?: { best: PipelineRun; runs: readonly PipelineRun[] };
}

/**
 * `rounds` interleaved rounds of: the generator alone (`generatorAlone`), the whole pipeline on
 * one broker, the whole pipeline on the cluster. The first round searches each pipeline's rate
 * from `startRate`; later rounds start from the rate the previous round sustained.
 */
export async function benchPipelineRounds(options: {
  single: PipelineTarget;
  cluster?: PipelineTarget | undefined;
  generatorAlone: (round: number) => Promise<Throughput>;
  logger: Logger;
  rounds: number;
  seconds: number;
  startRate: number;
}): Promise<readonly PipelineRound[]> {
  const { logger, seconds } = options;
  const rounds: PipelineRound[] = [];
  let singleRate = options.startRate;
  let clusterRate: number | undefined;
  for (let round = 1; round <= options.rounds; round += 1) {
    logger.info({ round }, 'whole pipeline round: generator alone, one broker, three brokers');
    const generator = await options.generatorAlone(round);
    const single = await benchPipeline(options.single, logger, { startRate: singleRate, seconds });
    singleRate = single.best.rate;
    let cluster: PipelineRound['cluster'];
    if (options.cluster !== undefined) {
      cluster = await benchPipeline(options.cluster, logger, { startRate: clusterRate ?? singleRate, seconds });
      clusterRate = cluster.best.rate;
    }
    rounds.push({ generator, single, ...(cluster === undefined ? {} : { cluster }) });
  }
  return rounds;
}
