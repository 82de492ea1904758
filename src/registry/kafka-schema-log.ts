import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';
import { ensureTopics } from '../kafka/ensure-topics.js';
import type { Logger } from '../shared/logger.js';
import { retry } from '../shared/retry.js';
import { decodeLogRecord, logRecordKey, type LogRecord } from './log-records.js';
import type { SchemaLog } from './registry-service.js';
import type { Replication } from '../kafka/replication.js';

export interface KafkaSchemaLogOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly replicationFactor: Replication;
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
 * How the log reader is watched: a reader that has not delivered a record for `stallMs` while the
 * log's end is beyond what it delivered is replaced by a fresh one (checked every `checkMs`).
 * After a broker restart a kafkajs consumer may crash without restarting, or stop fetching — the
 * registry then never applied its own writes again ("the schema log did not reach offset N"),
 * seen in the chaos suite. Records delivered again by the new reader are ignored by the service.
 */
export const READER_WATCH = Object.freeze({ checkMs: 2_000, stallMs: 10_000 });

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

  /** The highest offset the reader delivered, and when it last delivered one. */
  let delivered = -1;
  let deliveredAt = Date.now();
  let closed = false;
  let replacing: Promise<void> | undefined;

  const endOffset = async () => {
    const [partition] = await admin.fetchTopicOffsets(topic);
    return Number(partition?.high ?? 0);
  };

  const startReader = async (): Promise<Consumer> => {
    const consumer = kafka.consumer({
      groupId: `kappa-registry-${randomUUID()}`,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) replace(`the log reader crashed: ${payload.error.message}`);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ message }) => {
        const offset = Number(message.offset);
        const record = decodeLogRecord(message.value);
        if (record === undefined) logger.warn({ topic, offset }, 'skipping a record that is not a registry record');
        options.onRecord(offset, record);
        if (offset > delivered) delivered = offset;
        deliveredAt = Date.now();
        return Promise.resolve();
      },
    });
    return consumer;
  };

  // A reader can crash while it is still starting (the topic's metadata not everywhere yet): its
  // replacement then waits for the first start to return (`reader` is unset until then).
  let reader: Awaited<ReturnType<typeof startReader>> | undefined;
  let crashedWhileStarting: string | undefined;
  // A new topic's metadata reaches every broker of a cluster a little later: a subscription that
  // meets UNKNOWN_TOPIC_OR_PARTITION (retriable) is tried again for a while.
  reader = await retry(() => startReader(), {
    deadlineMs: 30_000,
    onRetry: (error) => logger.warn({ err: error, topic }, 'the log reader could not subscribe yet; trying again'),
  });
  if (crashedWhileStarting !== undefined) replace(crashedWhileStarting);

  /** Replaces the reader (once at a time); a failed attempt is retried by the next check. */
  function replace(why: string): void {
    if (closed || replacing !== undefined) return;
    if (reader === undefined) {
      crashedWhileStarting = why;
      return;
    }
    logger.warn({ topic, delivered }, `${why}: starting a new log reader`);
    const old = reader;
    replacing = (async () => {
      await Promise.race([old.disconnect().catch(() => undefined), sleep(5_000)]);
      if (closed) return;
      reader = await startReader();
      deliveredAt = Date.now();
    })()
      .catch((error: unknown) => logger.warn({ err: error, topic }, 'could not start a new log reader yet'))
      .finally(() => (replacing = undefined));
  }

  const watch = setInterval(() => {
    if (closed || replacing !== undefined || Date.now() - deliveredAt < READER_WATCH.stallMs) return;
    endOffset()
      .then((end) => {
        if (end > delivered + 1 && Date.now() - deliveredAt >= READER_WATCH.stallMs)
          replace(`the log reader delivered nothing for ${READER_WATCH.stallMs} ms while the log ends at ${end}`);
      })
      // The broker is away: kafkajs reconnects by itself; the next check looks again.
      .catch(() => undefined);
  }, READER_WATCH.checkMs);
  watch.unref();

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
    endOffset,
    close: async () => {
      closed = true;
      clearInterval(watch);
      await replacing;
      await Promise.allSettled([reader?.disconnect(), producer.disconnect(), admin.disconnect()]);
    },
  };
}
