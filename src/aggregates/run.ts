import type { EachBatchPayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { ensureTopics } from '../kafka/ensure-topics.js';
import { logTopic } from '../kafka/topics.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { KappaError } from '../shared/errors.js';
import { parseEventTime } from '../shared/event-time.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichedEvent } from '../stages/enrich/rules.js';
import { jobNames, type Dimension } from './job-names.js';
import { MongoSink } from './mongo-sink.js';
import { MySqlSink } from './mysql-sink.js';
import type { AggregateSink, SinkKind } from './sink.js';
import { PartitionWindows, validateSettings, type WindowRow, type WindowSettings } from './window-engine.js';
import { untilAborted } from '../shared/abort.js';

export interface AggregateOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  /** Where the version lives (default mysql). */
  readonly sink?: SinkKind;
  readonly mysqlUrl: string;
  readonly mongodbUrl?: string;
  readonly stagesTopic: string;
  /** Partitions and replication factor for the late-events topic when it is created. */
  readonly topicPartitions: number;
  readonly topicReplicationFactor: number;
  readonly schemasDir: string;
  readonly version: string;
  readonly settings: WindowSettings;
  readonly dims: readonly Dimension[];
  readonly timeZone: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Counters to update live; a fresh set when omitted. */
  readonly metrics?: AggregateMetrics;
  /** Also publish late events to `<stages topic>.late` (after their slice commits: at least once). */
  readonly publishLate?: boolean;
  /**
   * Opt-in: close a partition's open windows after this long without data (processing time).
   * Such rows are marked `idle_closed`: they are not a pure function of the log.
   */
  readonly idleCloseMs?: number;
}

export interface AggregateMetrics {
  in: number;
  late: number;
  rows: number;
  bad: number;
}

const SLICE = 5_000;

/** The key of an enriched event in each dimension. */
function keysOf(event: EnrichedEvent, dims: readonly Dimension[]): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const dim of dims)
    keys[dim] = dim === 'user' ? event.user_name : dim === 'dept' ? event.dept_name : String(event.age);
  return keys;
}

interface PartitionJob {
  readonly windows: PartitionWindows;
  next: bigint | null;
  /** When data last arrived (processing time), for --idle-close. */
  lastDataAt: number;
  /** Serialises the batches and the idle closing of one partition. */
  lock: Promise<unknown>;
}

function exclusive<T>(job: PartitionJob, work: () => Promise<T>): Promise<T> {
  const result = job.lock.then(work);
  job.lock = result.catch(() => undefined);
  return result;
}

/**
 * `kappa aggregate --version vN`: events_stages → MySQL (or MongoDB). Each partition's windows advance in log
 * order; each slice's rows and the partition's progress are committed together (one MySQL
 * transaction; MongoDB: see mongo-sink.ts). The Kafka group's offsets are only a hint of where to
 * fetch from: the sink's progress is the truth,
 * so records below it are skipped whatever kafkajs re-delivers.
 */
export async function runAggregate(options: AggregateOptions): Promise<AggregateMetrics> {
  const { kafka, logger, signal, version, dims } = options;
  const problem = validateSettings(options.settings);
  if (problem !== undefined) throw new KappaError('KAPPA_CONFIG_INVALID', problem);
  const names = jobNames(version);
  const sinkKind = options.sink ?? 'mysql';
  const sink: AggregateSink =
    sinkKind === 'mongodb'
      ? await MongoSink.open(options.mongodbUrl ?? 'mongodb://127.0.0.1:27017/kappa', version, options.stagesTopic)
      : await MySqlSink.open(options.mysqlUrl, version, options.stagesTopic);
  const metrics: AggregateMetrics = options.metrics ?? { in: 0, late: 0, rows: 0, bad: 0 };
  const closers: (() => Promise<void>)[] = [];
  const group = names.consumerGroup(options.stagesTopic, sinkKind);
  const consumer = kafka.consumer({
    groupId: group,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  try {
    await sink.prepare({ version, settings: options.settings, dims });
    const histories = await loadSchemaHistories(options.schemasDir);
    const stagesSchema = histories.find((history) => history.name === 'events_stages')?.versions.at(-1)?.schema;
    if (stagesSchema === undefined)
      throw new KappaError('KAPPA_SCHEMAS_INVALID', 'the schemas directory has no events_stages/ history');
    const decoder = new AvroDecoder<EnrichedEvent>(options.registryUrl, stagesSchema);
    const jobs = new Map<number, Promise<PartitionJob>>();
    const jobFor = (partition: number): Promise<PartitionJob> => {
      let job = jobs.get(partition);
      if (job === undefined) {
        job = sink.load(partition).then((progress): PartitionJob => ({
          windows: new PartitionWindows(options.settings, progress.snapshot),
          next: progress.nextOffset,
          lastDataAt: Date.now(),
          lock: Promise.resolve(),
        }));
        jobs.set(partition, job);
        job.catch(() => jobs.delete(partition));
      }
      return job;
    };

    const lateTopic = names.lateTopic(options.stagesTopic);
    const lateProducer =
      options.publishLate === true ? kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }) : undefined;
    // The stages topic (like every stage, idempotently: the aggregator may start before the
    // enrichment has created it) and, with --publish-late, the late topic.
    const admin = kafka.admin();
    await admin.connect();
    const wanted = [
      logTopic(options.stagesTopic, options),
      ...(lateProducer === undefined ? [] : [logTopic(lateTopic, options)]),
    ];
    await ensureTopics(admin, wanted, logger).finally(() => admin.disconnect());
    if (lateProducer !== undefined) {
      await lateProducer.connect();
      closers.push(() => lateProducer.disconnect());
    }

    /** Counts of a slice, added to the metrics only once its commit succeeds (re-deliveries are not counted twice). */
    const step = async (
      job: PartitionJob,
      message: KafkaMessage,
      rows: WindowRow[],
      late: Message[],
      partition: number,
      counted: { in: number; late: number },
    ): Promise<void> => {
      const decoded = await decoder.decode(message.value);
      const time = decoded.ok ? parseEventTime(decoded.value.time, options.timeZone) : undefined;
      if (!decoded.ok || time === undefined) {
        metrics.bad += 1;
        return;
      }
      counted.in += 1;
      const result = job.windows.step({ time, keys: keysOf(decoded.value, dims) });
      if (result.lateWindows > 0) {
        counted.late += 1;
        if (lateProducer !== undefined) {
          late.push({
            key: message.key,
            value: message.value,
            headers: {
              'kappa.version': version,
              'kappa.source.partition': String(partition),
              'kappa.source.offset': message.offset,
            },
          });
        }
      }
      rows.push(...result.emitted);
    };

    // After a rebalance MySQL says where each partition stands: forget what memory says.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      jobs.clear();
      logger.info({ version, partitions: payload.memberAssignment[options.stagesTopic] ?? [] }, 'partitions assigned');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: options.stagesTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, options.topicPartitions),
      eachBatch: async (payload) => {
        const { batch } = payload;
        const job = await jobFor(batch.partition);
        if (batch.messages.length > 0) job.lastDataAt = Date.now();
        await exclusive(job, () => processBatch(payload, job));
      },
    });
    const idleTimer =
      options.idleCloseMs === undefined
        ? undefined
        : setInterval(() => void closeIdle(options.idleCloseMs ?? 0), 1_000);
    closers.push(() => Promise.resolve(clearInterval(idleTimer)));
    logger.info(
      {
        version,
        sink: sinkKind,
        group,
        topic: options.stagesTopic,
        ...options.settings,
        dims,
        idleCloseMs: options.idleCloseMs,
      },
      'aggregation running',
    );
    await untilAborted(signal);
    return metrics;

    async function processBatch(payload: EachBatchPayload, job: PartitionJob): Promise<void> {
      const { batch } = payload;
      const pending = batch.messages.filter((message) => job.next === null || BigInt(message.offset) >= job.next);
      // Where the fetched records end, control records (transaction markers) and aborted records
      // included: progress moves past them too, so a caught-up version has no lag. Never past what
      // was fetched (an empty fetch says nothing about records of still-open transactions).
      const fetchedEnd = batch.firstOffset() === null ? undefined : BigInt(batch.lastOffset()) + 1n;
      const slices: KafkaMessage[][] = [];
      for (let start = 0; start < pending.length; start += SLICE) slices.push(pending.slice(start, start + SLICE));
      if (slices.length === 0 && fetchedEnd !== undefined && (job.next === null || fetchedEnd > job.next))
        slices.push([]);
      for (const [index, slice] of slices.entries()) {
        if (!payload.isRunning() || payload.isStale()) return;
        const rows: WindowRow[] = [];
        const late: Message[] = [];
        const counted = { in: 0, late: 0 };
        const expected = job.next;
        const last = slice.at(-1);
        let nextOffset = last === undefined ? (fetchedEnd ?? 0n) : BigInt(last.offset) + 1n;
        if (index === slices.length - 1 && fetchedEnd !== undefined && fetchedEnd > nextOffset) nextOffset = fetchedEnd;
        try {
          for (const message of slice) await step(job, message, rows, late, batch.partition, counted);
          const watermark = job.windows.watermark();
          const committed = await sink.commit({
            partition: batch.partition,
            expected,
            nextOffset,
            rows,
            snapshot: job.windows.snapshot(),
            lateEvents: job.windows.late,
            watermark: Number.isFinite(watermark) ? watermark : null,
          });
          if (!committed)
            throw new KappaError(
              'KAPPA_PROGRESS_MOVED',
              `${options.stagesTopic}[${batch.partition}] progress of ${version} moved: another instance owns it now`,
            );
        } catch (error) {
          // The in-memory windows ran ahead of MySQL: reload them from the last commit and let
          // kafkajs deliver the records again (MySQL down, a lost race, anything).
          jobs.delete(batch.partition);
          logger.warn(
            { err: error, partition: batch.partition },
            'aggregation commit failed; resuming from the last committed progress',
          );
          throw error;
        }
        job.next = nextOffset;
        metrics.rows += rows.length;
        metrics.in += counted.in;
        metrics.late += counted.late;
        if (lateProducer !== undefined && late.length > 0)
          await lateProducer.send({ topic: lateTopic, messages: late });
        payload.resolveOffset(String(nextOffset - 1n));
        await payload.heartbeat();
      }
      if (slices.length === 0) payload.resolveOffset(batch.lastOffset());
    }

    /** --idle-close: partitions quiet for `idleMs` get their open windows closed, rows marked. */
    async function closeIdle(idleMs: number): Promise<void> {
      for (const [partition, pending] of jobs) {
        const job = await pending.catch(() => undefined);
        if (
          job === undefined ||
          job.next === null ||
          !job.windows.hasOpenWindows() ||
          Date.now() - job.lastDataAt < idleMs
        )
          continue;
        await exclusive(job, async () => {
          if (!job.windows.hasOpenWindows() || job.next === null) return;
          const rows = job.windows.closeAll();
          const watermark = job.windows.watermark();
          const committed = await sink.commit({
            partition,
            expected: job.next,
            nextOffset: job.next,
            rows,
            snapshot: job.windows.snapshot(),
            lateEvents: job.windows.late,
            watermark: Number.isFinite(watermark) ? watermark : null,
            idleClosed: true,
          });
          if (!committed) throw new Error('progress moved');
          metrics.rows += rows.length;
          logger.info(
            { partition, rows: rows.length, idleMs },
            'closed the windows of an idle partition (rows marked idle_closed)',
          );
        }).catch((error: unknown) => {
          jobs.delete(partition);
          logger.warn({ err: error, partition }, 'idle close failed; reloading the partition from MySQL');
        });
      }
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    for (const close of closers) await close().catch(() => undefined);
    await sink.close().catch(() => undefined);
    logger.info({ ...metrics }, 'aggregation stopped');
  }
}
