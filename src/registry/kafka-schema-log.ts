import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { ensureTopics } from '../kafka/ensure-topics.js';
import type { Logger } from '../shared/logger.js';
import { decodeLogRecord, logRecordKey, type LogRecord } from './log-records.js';
import type { SchemaLog } from './registry-service.js';

export interface KafkaSchemaLogOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly replicationFactor: number;
  readonly logger: Logger;
  /** Receives every record of the topic, in order, from offset 0. */
  readonly onRecord: (offset: number, record: LogRecord | undefined) => void;
}

export interface KafkaSchemaLog extends SchemaLog {
  /** The broker cluster's id (Confluent's `/v1/metadata/id` names it). */
  readonly clusterId: string;
  close(): Promise<void>;
}

/**
 * The registry's log in a single-partition compacted topic (one partition: one total order, which
 * is what lets every instance derive the same ids). Each instance reads it whole from offset 0 on
 * start with its own throw-away consumer group and never commits: the log, not the group, is the state.
 */
export async function openKafkaSchemaLog(options: KafkaSchemaLogOptions): Promise<KafkaSchemaLog> {
  const { kafka, topic, logger } = options;
  const admin: Admin = kafka.admin();
  // Not idempotent on purpose: a duplicate written by a retry repeats its nonce and is rejected when
  // applied, so it is harmless — and an idempotent producer would need unbounded retries.
  const producer: Producer = kafka.producer({
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer: Consumer = kafka.consumer({
    groupId: `kappa-registry-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  await admin.connect();
  await ensureTopics(
    admin,
    [
      {
        name: topic,
        partitions: 1,
        replicationFactor: options.replicationFactor,
        config: { 'cleanup.policy': 'compact' },
      },
    ],
    logger,
  );
  const { clusterId } = await admin.describeCluster();
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: ({ message }) => {
      const record = decodeLogRecord(message.value);
      if (record === undefined)
        logger.warn({ topic, offset: message.offset }, 'skipping a record that is not a registry record');
      options.onRecord(Number(message.offset), record);
      return Promise.resolve();
    },
  });

  return {
    clusterId,
    append: async (record) => {
      const [metadata] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: logRecordKey(record), value: JSON.stringify(record) }],
      });
      if (metadata?.baseOffset === undefined) throw new Error(`no offset returned for the record written to ${topic}`);
      return Number(metadata.baseOffset);
    },
    endOffset: async () => {
      const [partition] = await admin.fetchTopicOffsets(topic);
      return Number(partition?.high ?? 0);
    },
    close: async () => {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    },
  };
}
