import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Batch, IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import { Partitioners } from '../../kafka/kafkajs.js';
import { ensurePipelineTopics } from '../../kafka/ensure-topics.js';
import { enrichGroup, topicNames, valueSubject, type TopicSettings } from '../../kafka/topics.js';
import { AvroDecoder } from '../../registry/avro-decoder.js';
import { parseAvro } from '../../registry/avro-schema.js';
import { registerHistory } from '../../registry/register-history.js';
import { loadSchemaHistories, type SchemaHistory } from '../../registry/schema-history.js';
import { encodeWithSchemaId } from '../../registry/wire-format.js';
import { KappaError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { PartitionProducers } from './partition-producers.js';
import { enrich, invalidReason, type EnrichmentTables, type RawEvent } from './rules.js';
import { untilAborted } from '../../shared/abort.js';

/** Records per transaction. */
const SLICE = 2_000;

export type BadRecordPolicy = 'dead-letter' | 'skip' | 'fail';

export interface EnrichOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly topics: TopicSettings;
  readonly schemasDir: string;
  readonly tables: EnrichmentTables;
  readonly badRecords: BadRecordPolicy;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Without transactions: at-least-once (for the benchmark's comparison only). */
  readonly transactional?: boolean;
  /** Counters to update live (the API's /metrics reads them); a fresh set when omitted. */
  readonly metrics?: EnrichMetrics;
}

/** Counters for /metrics: records in, enriched out, dead-lettered, skipped. */
export interface EnrichMetrics {
  in: number;
  out: number;
  dlq: number;
  skipped: number;
  /** When the first record was processed (ms since the epoch), 0 before. */
  firstRecordAt: number;
}

export function newEnrichMetrics(): EnrichMetrics {
  return { in: 0, out: 0, dlq: 0, skipped: 0, firstRecordAt: 0 };
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
 * `kappa enrich`: events → events_stages, exactly once. Each batch of an input partition is
 * enriched and written, with the consumer offset, in one Kafka transaction of that partition's
 * producer; readers of events_stages use read_committed. Bad records go to events.dlq in the same
 * transaction (policy `dead-letter`), so they are neither lost nor processed twice either.
 */
export async function runEnrich(options: EnrichOptions): Promise<EnrichMetrics> {
  const { kafka, logger, signal } = options;
  const names = topicNames(options.topics);
  const group = enrichGroup(names.stages);
  const admin = kafka.admin();
  await admin.connect();
  const metrics = options.metrics ?? newEnrichMetrics();
  const producers = new PartitionProducers(kafka, admin, group, names.events);
  // A 10 s session: a killed instance's partitions move on within seconds, not kafkajs's default 30.
  const consumer = kafka.consumer({
    groupId: group,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const plain =
    options.transactional === false
      ? kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
      : undefined;

  try {
    await ensurePipelineTopics(admin, options.topics, logger);
    const histories = await loadSchemaHistories(options.schemasDir);
    const stagesHistory = latest(histories, 'events_stages');
    const registered = await registerHistory(
      new SchemaRegistry({ host: options.registryUrl }),
      stagesHistory,
      valueSubject(names.stages),
      options.registryUrl,
    );
    const outId = registered.at(-1)?.id ?? 0;
    const outType = parseAvro(stagesHistory.versions.at(-1)?.schema ?? '');
    const decoder = new AvroDecoder<RawEvent>(
      options.registryUrl,
      latest(histories, 'events').versions.at(-1)?.schema ?? '',
    );

    const toMessages = async (
      batch: Batch,
      slice: readonly KafkaMessage[],
      floor: bigint,
    ): Promise<{ stages: Message[]; deadLetters: Message[] }> => {
      const stages: Message[] = [];
      const deadLetters: Message[] = [];
      for (const message of slice) {
        if (BigInt(message.offset) < floor) continue;
        if (metrics.firstRecordAt === 0) metrics.firstRecordAt = Date.now();
        metrics.in += 1;
        const decoded = await decoder.decode(message.value);
        const problem = decoded.ok ? invalidReason(decoded.value) : undefined;
        if (decoded.ok && problem === undefined) {
          const enriched = enrich(decoded.value, options.tables);
          stages.push({ key: String(enriched.user_id), value: encodeWithSchemaId(outId, outType, enriched) });
          continue;
        }
        const { reason, detail } = decoded.ok ? (problem ?? { reason: 'invalid', detail: '' }) : decoded;
        if (options.badRecords === 'fail')
          throw new KappaError(
            'KAPPA_BAD_RECORD',
            `${names.events}[${batch.partition}]@${message.offset}: ${reason}: ${detail}`,
          );
        if (options.badRecords === 'skip') {
          metrics.skipped += 1;
          continue;
        }
        deadLetters.push({
          key: message.key,
          value: message.value,
          headers: deadLetterHeaders(names.events, batch.partition, message, reason, detail),
        });
      }
      return { stages, deadLetters };
    };

    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(payload.memberAssignment[names.events] ?? []);
      logger.info({ group, partitions: [...assigned] }, 'partitions assigned');
      void producers.retain(assigned);
    });

    await plain?.connect();
    await consumer.connect();
    await consumer.subscribe({ topic: names.events, fromBeginning: true });
    /** Writes one slice of a batch: in a transaction with its offset, or plainly (bench only). */
    const writeSlice = async (batch: Batch, slice: readonly KafkaMessage[]): Promise<void> => {
      const next = String(BigInt(slice.at(-1)?.offset ?? batch.lastOffset()) + 1n);
      if (plain !== undefined) {
        const { stages, deadLetters } = await toMessages(batch, slice, -1n);
        await plain.sendBatch({
          topicMessages: [
            { topic: names.stages, messages: stages },
            { topic: names.deadLetter, messages: deadLetters },
          ].filter((entry) => entry.messages.length > 0),
        });
        metrics.out += stages.length;
        metrics.dlq += deadLetters.length;
        return;
      }
      const owned = await producers.get(batch.partition);
      const { producer } = owned;
      const { stages, deadLetters } = await toMessages(batch, slice, owned.floor);
      if (stages.length === 0 && deadLetters.length === 0 && BigInt(next) <= owned.floor) return;
      const transaction = await producer.transaction();
      try {
        if (stages.length > 0) await transaction.send({ topic: names.stages, messages: stages });
        if (deadLetters.length > 0) await transaction.send({ topic: names.deadLetter, messages: deadLetters });
        await transaction.sendOffsets({
          consumerGroupId: group,
          topics: [{ topic: names.events, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await transaction.commit();
        owned.floor = BigInt(next);
      } catch (error) {
        // Fenced by the partition's new owner, or a transaction kafkajs cannot finish: abort what
        // can be aborted (never waiting on a stuck producer), drop the producer, and let the
        // consumer resume from the committed offset.
        await Promise.race([transaction.abort().catch(() => undefined), sleep(10_000)]);
        await Promise.race([producers.drop(batch.partition), sleep(10_000)]);
        logger.warn(
          { err: error, partition: batch.partition },
          'transaction failed; resuming from the committed offset',
        );
        throw error;
      }
      metrics.out += stages.length;
      metrics.dlq += deadLetters.length;
    };

    await consumer.run({
      autoCommit: plain !== undefined,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, options.topics.topicPartitions),
      eachBatch: async (payload) => {
        const { batch } = payload;
        // A fetched batch of gzip-compressed input can hold 100,000 records: one transaction per
        // slice keeps each well inside the transaction timeout, whatever the batch size.
        for (let start = 0; start < batch.messages.length; start += SLICE) {
          if (!payload.isRunning() || payload.isStale()) return;
          const slice = batch.messages.slice(start, start + SLICE);
          await writeSlice(batch, slice);
          payload.resolveOffset(slice.at(-1)?.offset ?? batch.lastOffset());
          await payload.heartbeat();
        }
      },
    });
    logger.info({ group, from: names.events, to: names.stages }, 'enrichment running');
    await untilAborted(signal);
    return metrics;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producers.closeAll();
    await plain?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    logger.info({ ...metrics }, 'enrichment stopped');
  }
}
