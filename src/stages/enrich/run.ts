import { registryClient } from '../../registry/registry-client.js';
import type { IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { Partitioners } from '../../kafka/kafkajs.js';
import { ensurePipelineTopics } from '../../kafka/ensure-topics.js';
import { timestampMsOf } from '../../kafka/record-decoder.js';
import {
  enrichGroup,
  stagesPartitioningProblem,
  topicNames,
  valueSubject,
  type TopicSettings,
} from '../../kafka/topics.js';
import { AvroDecoder, schemaWait } from '../../registry/avro-decoder.js';
import { countIncident } from '../../shared/incidents.js';
import { parseAvro } from '../../registry/avro-schema.js';
import { registerHistory } from '../../registry/register-history.js';
import { loadSchemaHistories, type SchemaHistory } from '../../registry/schema-history.js';
import { encodeWithSchemaId } from '../../registry/wire-format.js';
import { KappaError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { PartitionProducers } from './partition-producers.js';
import { SEND_SLICE, type TransactionPolicy } from './transaction-policy.js';
import { enrichRecord, type EnrichmentTables, type RawEvent } from './rules.js';
import { StageConsumer, type FetchedBatch } from '../runtime/stage-consumer.js';
import {
  DEFAULT_TRANSACTION_POLICY,
  EnrichmentDriver,
  newEnrichMetrics,
  type Enriched,
  type EnrichMetrics,
} from './enrichment-driver.js';
import { KafkaTransactionPort } from './kafka-transaction-port.js';

export { DEFAULT_TRANSACTION_POLICY, newEnrichMetrics, type EnrichMetrics } from './enrichment-driver.js';

export type BadRecordPolicy = 'dead-letter' | 'skip' | 'fail';

export interface EnrichOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly topics: TopicSettings;
  readonly schemasDir: string;
  readonly tables: EnrichmentTables;
  readonly badRecords: BadRecordPolicy;
  /** The zone of `time` (KAPPA_TIME_ZONE) and how far ahead of its record's timestamp it may be (KAPPA_MAX_FUTURE). */
  readonly timeZone: string;
  readonly maxFutureMs: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Without transactions: at-least-once (for the benchmark's comparison only). */
  readonly transactional?: boolean;
  /** Counters to update live (the API's /metrics reads them); a fresh set when omitted. */
  readonly metrics?: EnrichMetrics;
  /** How big a transaction gets while catching up (default: 1 s of work or 50,000 records). */
  readonly transactions?: TransactionPolicy;
}

/** Key bytes of the few user ids (id % 10) made once, not a Buffer per record; others as they come. */
const KEY_BYTES: Buffer[] = [];
function keyBytes(userId: number): Buffer {
  if (!Number.isInteger(userId) || userId < 0 || userId >= 1_024) return Buffer.from(String(userId));
  return (KEY_BYTES[userId] ??= Buffer.from(String(userId)));
}

function latest(histories: readonly SchemaHistory[], name: string): SchemaHistory {
  const history = histories.find((entry) => entry.name === name);
  if (history === undefined || history.versions.length === 0)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', `the schemas directory has no ${name}/ history`);
  return history;
}

function deadLetterHeaders(
  topic: string,
  partition: number,
  message: KafkaMessage,
  reason: string,
  detail: string,
): IHeaders {
  return {
    'kappa.dlq.reason': reason,
    'kappa.dlq.detail': detail,
    'kappa.dlq.stage': 'enrich',
    'kappa.source.topic': topic,
    'kappa.source.partition': String(partition),
    'kappa.source.offset': message.offset,
  };
}

/**
 * `kappa enrich`: events → events_stages, exactly once. An input partition's records are enriched
 * and written, with the consumer offset, in Kafka transactions of that partition's producer (one
 * per fetched batch on live data, longer while catching up: TransactionPolicy); readers of
 * events_stages use read_committed. Bad records go to events.dlq in the same transaction (policy
 * `dead-letter`), so they are neither lost nor processed twice either. The transactions' decisions
 * live in EnrichmentDriver (broker-free); this is the kafkajs adapter: fetch, decode, enrich, seek.
 */
export async function runEnrich(options: EnrichOptions): Promise<EnrichMetrics> {
  const { kafka, logger, signal } = options;
  const names = topicNames(options.topics);
  const group = enrichGroup(names.stages);
  const admin = kafka.admin();
  await admin.connect();
  const metrics = options.metrics ?? newEnrichMetrics();
  const policy = options.transactions ?? DEFAULT_TRANSACTION_POLICY;
  const producers = new PartitionProducers(kafka, admin, group, names.events);
  let driver: EnrichmentDriver<KafkaMessage> | undefined;
  const consumer = new StageConsumer({ kafka, groupId: group, topic: names.events, logger });
  const plain =
    options.transactional === false
      ? kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
      : undefined;

  try {
    const topics = await ensurePipelineTopics(admin, options.topics, logger);
    const problem = stagesPartitioningProblem(names, topics.eventsPartitions, topics.stagesPartitions);
    if (problem !== undefined) throw new KappaError('KAPPA_STAGES_PARTITIONS', problem);
    const { deadLetterPartitions } = topics;
    const histories = await loadSchemaHistories(options.schemasDir);
    const stagesHistory = latest(histories, 'events_stages');
    const registered = await registerHistory(
      registryClient(options.registryUrl),
      stagesHistory,
      valueSubject(names.stages),
      options.registryUrl,
    );
    const outId = registered.at(-1)?.id ?? 0;
    const outType = parseAvro(stagesHistory.versions.at(-1)?.schema ?? '');
    const decoder = new AvroDecoder<RawEvent>(
      options.registryUrl,
      latest(histories, 'events').versions.at(-1)?.schema ?? '',
      schemaWait(logger),
    );

    const toMessages = async (partition: number, slice: readonly KafkaMessage[]): Promise<Enriched> => {
      const stages: Message[] = [];
      const deadLetters: Message[] = [];
      // Writer schemas of the whole slice at once; then no await per record.
      await decoder.prepare(slice.map((message) => message.value));
      if (slice.length > 0 && metrics.firstRecordAt === 0) metrics.firstRecordAt = Date.now();
      for (let index = 0; index < slice.length; index += 1) {
        const message = slice[index] as KafkaMessage;
        metrics.in += 1;
        // Bounded by the record's timestamp in the log, never the clock: a replay decides the same.
        const outcome = enrichRecord(
          decoder.decodeSync(message.value),
          { timestampMs: timestampMsOf(message), timeZone: options.timeZone, maxFutureMs: options.maxFutureMs },
          options.tables,
        );
        if (outcome.kind === 'stages') {
          const enriched = outcome.value;
          // Partition-preserving (SPEC §1.2): the stages partition is the events partition, so each
          // holds one source partition's records in produced order, whatever the batching or restarts.
          // The event's record timestamp goes with it, so the aggregator bounds its time by the
          // same instant, and a full-chain replay writes the same timestamps.
          stages.push({
            key: keyBytes(enriched.user_id),
            value: encodeWithSchemaId(outId, outType, enriched),
            partition,
            timestamp: message.timestamp,
          });
          continue;
        }
        const { reason, detail } = outcome;
        if (options.badRecords === 'fail')
          throw new KappaError(
            'KAPPA_BAD_RECORD',
            `${names.events}[${partition}]@${message.offset}: ${reason}: ${detail}`,
          );
        if (options.badRecords === 'skip') {
          metrics.skipped += 1;
          countIncident('skipped', 'enrich-bad-record');
          logger.warn(
            { topic: names.events, partition, offset: message.offset, reason, detail },
            'bad record skipped (--bad-records skip)',
          );
          continue;
        }
        deadLetters.push({
          key: message.key,
          value: message.value,
          partition: partition % deadLetterPartitions,
          headers: deadLetterHeaders(names.events, partition, message, reason, detail),
        });
      }
      return { stages, deadLetters };
    };

    const transactional = new EnrichmentDriver<KafkaMessage>({
      port: new KafkaTransactionPort(producers, group, names.events),
      stagesTopic: names.stages,
      deadLetterTopic: names.deadLetter,
      offsetOf: (message) => BigInt(message.offset),
      enrich: toMessages,
      policy,
      metrics,
      logger,
    });
    driver = transactional;

    await plain?.connect();

    /** Exactly once: the driver decides; kafkajs fetches, and seeks where the driver says. */
    const transactBatch = (batch: FetchedBatch) =>
      transactional.batch(
        batch.partition,
        batch.messages,
        { ...(batch.from === undefined ? {} : { from: batch.from }), backlog: batch.backlog },
        batch,
      );

    /** At-least-once (bench only): slices sent plainly, offsets auto-committed. */
    const sendBatchPlainly = async (producer: Producer, batch: FetchedBatch): Promise<{ kind: 'done' }> => {
      for (let start = 0; start < batch.messages.length; start += SEND_SLICE) {
        if (!batch.isActive()) break;
        const slice = batch.messages.slice(start, start + SEND_SLICE);
        const { stages, deadLetters } = await toMessages(batch.partition, slice);
        await producer.sendBatch({
          topicMessages: [
            { topic: names.stages, messages: [...stages] },
            { topic: names.deadLetter, messages: [...deadLetters] },
          ].filter((entry) => entry.messages.length > 0),
        });
        metrics.out += stages.length;
        metrics.dlq += deadLetters.length;
        batch.processed(BigInt((slice.at(-1) as KafkaMessage).offset) + 1n);
        await batch.heartbeat();
      }
      return { kind: 'done' };
    };

    await consumer.start({
      autoCommit: plain !== undefined,
      partitionsConsumedConcurrently: Math.max(1, options.topics.topicPartitions),
      assigned: (assigned) => {
        logger.info({ group, partitions: [...assigned] }, 'partitions assigned');
        // kafkajs fetches again from the committed offsets: transactions carried over are given up.
        transactional.rebalance(assigned).catch((error: unknown) => {
          logger.warn({ err: error }, 'giving up the transactions of the last assignment failed');
        });
      },
      batch: (batch) => (plain === undefined ? transactBatch(batch) : sendBatchPlainly(plain, batch)),
    });
    // The effective settings, once: what a supervisor (`kappa up`, `recover --from`) really passed.
    logger.info(
      {
        group,
        from: names.events,
        to: names.stages,
        badRecords: options.badRecords,
        transactions: plain === undefined ? policy : 'none (at-least-once)',
      },
      'enrichment running',
    );
    await consumer.until(signal);
    return metrics;
  } finally {
    await consumer.close();
    // An open transaction would hold read_committed readers of the stages topic until it times out.
    await driver?.stop();
    await producers.closeAll();
    await plain?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    logger.info({ ...metrics }, 'enrichment stopped');
  }
}
