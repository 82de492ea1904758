/**
 * One replay of the aggregate bench in a process of its own (forked by aggregate-bench.ts), so its
 * peak RSS is the replay's alone — not the bench process's, which filled the topic and decoded it
 * first. Runs what `kappa aggregate` or `kappa recover --until-caught-up` run, reports its figures
 * over IPC and exits.
 */
import { versionSettings } from '../model/version-settings.js';
import { runAggregate, type AggregateMetrics } from '../aggregates/run.js';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import type { AggregateSink } from '../aggregates/sink.js';
import { createKafka } from '../kafka/client.js';
import { runRecover } from '../recovery/recover.js';
import { createLogger } from '../shared/logger.js';
import { consumeAndDecode } from './decode-baseline.js';
import { useBenchKafkaSecurity } from './bench-security.js';

/** What the parent asks for (argv[2], JSON). */
export interface ReplayRequest {
  /** decode: the rows' baseline (consume + decode only), in a process like the replays'. */
  readonly mode: 'aggregate' | 'recover' | 'decode';
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly mysqlUrl: string;
  readonly schemasDir: string;
  readonly topic: string;
  readonly version: string;
  readonly delayMs: number;
  /** aggregate: stop once this many records were consumed. */
  readonly events: number;
}

/** What the child answers. */
export interface ReplayReport {
  readonly records: number;
  /** aggregate: from the first record to the last; recover: from start to caught up (start-up included). */
  readonly seconds: number;
  /** `process.resourceUsage().maxRSS` of the replaying process, MiB. */
  readonly peakRssMiB: number;
  readonly retries: number;
}

const request = JSON.parse(process.argv[2] ?? '{}') as ReplayRequest;
// BENCH_REPLAY_LOG=info: the replay's own log lines (assigned, caught up, stopped) with their times.
const logger = createLogger(process.env['BENCH_REPLAY_LOG'] === 'info' ? 'info' : 'warn', 'bench-replay');
await useBenchKafkaSecurity();
const kafka = createKafka({ brokers: [...request.brokers], logger });
const job = {
  kafka,
  registryUrl: request.registryUrl,
  mysqlUrl: request.mysqlUrl,
  topicPartitions: 3,
  topicReplicationFactor: 1,
  schemasDir: request.schemasDir,
  logger,
  version: request.version,
  settings: versionSettings({
    window: 10_000,
    slide: 10_000,
    watermarkDelay: request.delayMs,
    timeZone: 'Asia/Seoul',
    topicStages: request.topic,
  }),
};
let sink: AggregateSink | undefined;
const onSink = (opened: AggregateSink) => (sink = opened);

let report: Omit<ReplayReport, 'peakRssMiB' | 'retries'>;
if (request.mode === 'decode') {
  const { records, seconds } = await consumeAndDecode(kafka, request.registryUrl, request.topic, request.events);
  report = { records, seconds };
} else if (request.mode === 'aggregate') {
  const metrics: AggregateMetrics = { in: 0, late: 0, rows: 0, bad: 0 };
  const controller = new AbortController();
  // From the first record fetched to the commit that counts the last: kafkajs's first fetch and
  // the commit included, like the baseline's first batch to its last decode. (metrics.in moves only
  // at commits: timing from the first count left out the first ~50,000 records of each partition.)
  let firstAt = 0;
  let lastAt = 0;
  let caughtUp: () => void = () => undefined;
  const counted = new Promise<void>((resolve) => (caughtUp = resolve));
  const run = runAggregate({
    ...job,
    signal: controller.signal,
    metrics,
    onSink,
    onFetched: () => {
      if (firstAt === 0) firstAt = Date.now();
    },
    onCommitted: () => {
      if (lastAt !== 0 || metrics.in < request.events) return;
      lastAt = Date.now();
      caughtUp();
    },
  });
  await Promise.race([counted, run]);
  const seconds = (lastAt - firstAt) / 1_000;
  controller.abort();
  await run;
  report = { records: metrics.in, seconds };
} else {
  const started = Date.now();
  const recovered = await runRecover({
    ...job,
    signal: new AbortController().signal,
    untilCaughtUp: true,
    // The lag checks' tick as `kappa recover` has it (500 ms): the commit that catches up ends the wait.
    onSink,
  });
  report = { records: recovered.metrics.in, seconds: (Date.now() - started) / 1_000 };
}
const answer: ReplayReport = {
  ...report,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  retries: sink instanceof MySqlSink ? sink.retries : 0,
};
process.send?.(answer, () => process.exit(0));
