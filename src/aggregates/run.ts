import type { Kafka } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { ensureTopics } from '../kafka/ensure-topics.js';
import { logTopic } from '../kafka/topics.js';
import { timestampMsOf } from '../kafka/record-decoder.js';
import { logStartOffset, offsetOf } from '../kafka/offsets.js';
import { AvroDecoder, schemaWait } from '../registry/avro-decoder.js';
import { countIncident } from '../shared/incidents.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { describeTzDrift, tzDrift } from '../shared/tz-database.js';
import {
  AggregationDriver,
  newAggregateMetrics,
  type AggregateMetrics,
  type CommitLimits,
  type StagedRecord,
} from './aggregation-driver.js';
import { classifier, fieldsRead, type ClassifiedFields } from './batch-plan.js';
import { startIdleClose } from './idle-close.js';
import { jobNames } from './job-names.js';
import { observeCommits, type AfterRowsCommitted } from './commit-observer.js';
import { MongoSink } from './mongo-sink.js';
import { MySqlSink } from './mysql-sink.js';
import type { AggregateSink } from './sink.js';
import type { VersionSettings } from '../model/version-settings.js';
import { validateSettings } from '../model/window-settings.js';
import type { Replication } from '../kafka/replication.js';
import { StageConsumer } from '../stages/runtime/stage-consumer.js';

export { newAggregateMetrics, type AggregateMetrics } from './aggregation-driver.js';

export interface AggregateOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly mysqlUrl: string;
  readonly mongodbUrl?: string;
  /** Partitions and replication factor for the topics the aggregator creates (late, dead letters). */
  readonly topicPartitions: number;
  readonly topicReplicationFactor: Replication;
  readonly topicMinInsync?: Replication;
  readonly schemasDir: string;
  readonly version: string;
  /**
   * All the version's tables depend on (window, dims, time zone, stages topic, sink, max future):
   * see version-settings.ts.
   */
  readonly settings: VersionSettings;
  /**
   * A schema id the registry does not know: `stop` (default) stops the stage with
   * KAPPA_SCHEMA_NOT_FOUND; `dead-letter` counts its records bad and dead-letters them — what
   * `recover --allow-dead-letters` asked for knowingly, after the preflight named the ids.
   */
  readonly unknownSchemaIds?: 'stop' | 'dead-letter';
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Counters to update live; a fresh set when omitted. */
  readonly metrics?: AggregateMetrics;
  /** Also publish late events to `<stages topic>.late` (before their commit: at least once). */
  readonly publishLate?: boolean;
  /**
   * Opt-in: close a partition's open windows after this long without data (processing time).
   * Such rows are marked `idle_closed`: they are not a pure function of the log.
   */
  readonly idleCloseMs?: number;
  /** When a partition commits (records, rows, time): see aggregation-driver.ts. */
  readonly limits?: Partial<CommitLimits>;
  /** Told of the sink once it is open (the bench reads its retry count). */
  readonly onSink?: (sink: AggregateSink) => void;
  /**
   * Called after each commit that wrote rows: where the composition (cli/job-options.ts, recovery)
   * hands in the serving decision (recovery/serving-pointer.ts `serveFirstToCommit`).
   */
  readonly afterRowsCommitted?: AfterRowsCommitted;
  /** Told of every commit that went through, rows or not: the partition and its next offset (recovery's lag checks). */
  readonly onCommitted?: (partition: number, nextOffset: bigint) => void;
  /** Told of each fetched batch before it is processed (the bench times a replay from its first record). */
  readonly onFetched?: () => void;
  /**
   * How long a fetch waits at the broker for records that have not arrived yet (default 250 ms).
   * Stopping waits for the fetch in flight: a run that stops once it has caught up (`recover
   * --until-caught-up`) spends this long in its last fetch, so it asks for less.
   */
  readonly fetchWaitMs?: number;
}

/**
 * How much one fetch brings. A replay's memory is mostly garbage awaiting collection: a fetched
 * batch lives while it is aggregated, long enough for V8 to promote it to the old generation, where
 * it waits for a full collection. kafkajs's default (1 MiB per partition, ~14,000 records here)
 * took a replaying process to ~300 MiB RSS for a ~40 MiB live set; 256 KiB to ~240 MiB (bench/README.md).
 * Pipelined (one fetch decoded while the last is processed), the 10M replay peaked at 305–339 MiB
 * with 256 KiB, 275–308 with 192, 277–286 with 160 and 276–279 with 128, where the 1M replay was
 * ~5 % slower (bench/README.md). Smaller fetches cost only fetch round trips,
 * which the pipeline overlaps, not commits (a backlog's batches are committed by the limits, see
 * AggregationDriver.batch); 4 MiB in all bounds it whatever the partition count.
 */
const FETCH_SIZES = { maxBytesPerPartition: 160 * 1024, maxBytes: 4 * 1024 * 1024 } as const;

/**
 * `kappa aggregate --version vN`: events_stages → MySQL (or MongoDB). The decisions live in
 * AggregationDriver (broker-free); this is the kafkajs adapter: fetch, decode (writer schemas
 * fetched once per batch, then synchronously), seek where the driver says, send late events and
 * dead letters. The Kafka group's offsets are only a hint: the sink's progress is the truth.
 */
export async function runAggregate(options: AggregateOptions): Promise<AggregateMetrics> {
  const { kafka, logger, signal, version, settings } = options;
  const problem = validateSettings(settings.window);
  if (problem !== undefined) throw new KappaError('KAPPA_CONFIG_INVALID', problem);
  const names = jobNames(version);
  const topic = settings.stagesTopic;
  const store: AggregateSink =
    settings.sink === 'mongodb'
      ? await MongoSink.open(options.mongodbUrl ?? 'mongodb://127.0.0.1:27017/kappa', version, topic)
      : await MySqlSink.open(options.mysqlUrl, version, topic);
  options.onSink?.(store);
  const sink = observeCommits(store, options.afterRowsCommitted);
  const metrics = options.metrics ?? newAggregateMetrics();
  const closers: (() => Promise<void>)[] = [];
  const group = names.consumerGroup(topic, settings.sink);
  const consumer = new StageConsumer({
    kafka,
    groupId: group,
    topic,
    logger,
    config: { ...FETCH_SIZES, ...(options.fetchWaitMs === undefined ? {} : { maxWaitTimeInMs: options.fetchWaitMs }) },
  });
  try {
    // The producer connects while the version's tables are prepared (it changes nothing anywhere);
    // nothing is created in Kafka before the version's settings and the schemas are accepted.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    const [prepared, histories, connected] = await Promise.allSettled([
      sink.prepare({ version, settings }),
      loadSchemaHistories(options.schemasDir),
      producer.connect(),
    ]);
    // Whatever failed, a producer that connected is disconnected by the closers.
    if (connected.status === 'fulfilled') closers.push(() => producer.disconnect());
    if (prepared.status === 'rejected') throw prepared.reason;
    if (histories.status === 'rejected') throw histories.reason;
    if (connected.status === 'rejected') throw connected.reason;
    const drift = tzDrift(version, prepared.value.tzVersion);
    if (drift !== undefined) logger.warn({ ...drift }, describeTzDrift(drift));
    const stagesSchema = histories.value.find((history) => history.name === 'events_stages')?.versions.at(-1)?.schema;
    if (stagesSchema === undefined)
      throw new KappaError('KAPPA_SCHEMAS_INVALID', 'the schemas directory has no events_stages/ history');
    // Only what classify reads is decoded (the other fields are skipped): ~150 ns a record of ~2.5 µs.
    const decoder = new AvroDecoder<ClassifiedFields>(
      options.registryUrl,
      stagesSchema,
      schemaWait(logger),
      options.unknownSchemaIds === 'dead-letter' ? 'report' : 'stop',
      fieldsRead(settings.dims),
    );
    const lateTopic = options.publishLate === true ? names.lateTopic(topic) : undefined;
    const deadLetterTopic = names.deadLetterTopic(topic);
    // The stages topic (like every stage, idempotently: the aggregator may start before the
    // enrichment has created it), the dead-letter topic and, with --publish-late, the late topic.
    const admin = kafka.admin();
    await admin.connect();
    const wanted = [topic, deadLetterTopic, ...(lateTopic === undefined ? [] : [lateTopic])];
    await ensureTopics(
      admin,
      wanted.map((name) => logTopic(name, options)),
      logger,
    ).finally(() => admin.disconnect());

    const classifyDecoded = classifier({
      timeZone: settings.timeZone,
      dims: settings.dims,
      window: settings.window,
      maxFutureMs: settings.maxFutureMs,
    });
    const driver = new AggregationDriver({
      version,
      stagesTopic: topic,
      settings: settings.window,
      sink,
      classify: (record: StagedRecord) => classifyDecoded(decoder.decodeSync(record.value), record.timestampMs),
      publish: async (batches) => {
        await producer.sendBatch({
          topicMessages: batches.map((batch) => ({ topic: batch.topic, messages: [...batch.messages] })),
        });
      },
      ...(lateTopic === undefined ? {} : { lateTopic }),
      deadLetterTopic,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      metrics,
      logger,
      ...(options.onCommitted === undefined ? {} : { onCommitted: options.onCommitted }),
      // A gap right after a seek is retention only if the log says so: a batch kafkajs fetched from
      // the group's offsets before the assignment's seek took effect is sought back instead.
      logStart: (partition) => logStartOffset(kafka, topic, partition),
    });
    const failed = (partition: number) => (error: unknown) => {
      countIncident('retry', 'aggregate-partition');
      logger.warn({ err: error, partition }, 'aggregation commit failed; resuming from the last committed progress');
    };

    await consumer.start({
      // Not after every batch (a round trip to the group coordinator before each next fetch, ~20 %
      // of a replay's time, bench/README.md): the group's offsets are only a hint for Kafka's tools.
      autoCommit: false,
      offsetHintEveryMs: 5_000,
      // The sink's progress is the truth: the next fetch need not wait for a batch's processing.
      pipelined: true,
      partitionsConsumedConcurrently: Math.max(1, options.topicPartitions),
      // After a rebalance the sink says where each partition stands: forget what memory says.
      // And the consumer is sought there: the group's committed offset may be anywhere (a version
      // whose tables and progress were dropped to run it again, a group reused across databases).
      // A partition without progress is not (see AggregationDriver.position): its first batch seeks.
      // The assignment's batches wait for these seeks (the consumer waits for this promise): kafkajs
      // may have fetched from the group's offsets meanwhile, and a batch fetched before its seek
      // must be dropped as stale, not taken for a log that starts beyond the progress.
      assigned: async (partitions) => {
        driver.forget();
        logger.info({ version, partitions: [...partitions] }, 'partitions assigned');
        await Promise.all(
          [...partitions].map((partition) =>
            driver
              .position(partition)
              .then((offset) => {
                if (offset !== undefined) consumer.seek(partition, offset);
              })
              .catch(failed(partition)),
          ),
        );
      },
      // kafkajs calls no eachBatch for a fetch of transaction markers or aborted records only
      // (runner.js, `isEmptyDueToFiltering`); without this a partition whose log ends with a marker
      // would show lag 1 forever.
      filtered: (partition, from, end) =>
        driver.skipped(partition, from, end).catch((error: unknown) => {
          failed(partition)(error);
          return { kind: 'failed' };
        }),
      batch: async (batch) => {
        const { partition } = batch;
        options.onFetched?.();
        await decoder.prepare(batch.messages.map((message) => message.value));
        const records = batch.messages.map((message): StagedRecord => ({
          offset: offsetOf(message.offset),
          timestampMs: timestampMsOf(message),
          key: message.key,
          value: message.value,
        }));
        const { from, end, backlog } = batch;
        return driver
          .batch(
            partition,
            records,
            { ...(from === undefined ? {} : { from }), ...(end === undefined ? {} : { end }), backlog },
            {
              isActive: () => batch.isActive(),
              committed: async (next) => {
                batch.processed(next);
                await batch.heartbeat();
              },
            },
          )
          .catch((error: unknown) => {
            failed(partition)(error);
            throw error;
          });
      },
    });
    const idleCloseMs = options.idleCloseMs;
    if (idleCloseMs !== undefined) {
      const stop = startIdleClose(driver, idleCloseMs, logger);
      closers.push(() => Promise.resolve(stop()));
    }
    logger.info(
      { version, group, topic, ...settings.window, dims: settings.dims, sink: settings.sink, idleCloseMs },
      'aggregation running',
    );
    await consumer.until(signal);
    return metrics;
  } finally {
    await consumer.close();
    for (const close of closers) await close().catch(() => undefined);
    await sink.close().catch(() => undefined);
    logger.info({ ...metrics }, 'aggregation stopped');
  }
}
