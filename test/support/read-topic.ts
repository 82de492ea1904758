import { randomUUID } from 'node:crypto';
import type { Batch, IHeaders, Kafka } from 'kafkajs';

export interface TopicMessage {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | undefined;
  readonly value: Buffer;
  readonly timestamp: number;
  readonly headers?: IHeaders;
}

/**
 * Adds a batch's messages, each (partition, offset) once: a consumer may deliver a batch again
 * (a rebalance under load), and only real duplicates — the same record at two offsets — may
 * reach the assertions.
 */
function collect(batch: Batch, seen: Set<string>, messages: TopicMessage[]): void {
  for (const message of batch.messages) {
    const where = `${batch.partition}:${message.offset}`;
    if (seen.has(where)) continue;
    seen.add(where);
    messages.push({
      partition: batch.partition,
      offset: BigInt(message.offset),
      key: message.key?.toString(),
      value: message.value ?? Buffer.alloc(0),
      timestamp: Number(message.timestamp),
      headers: message.headers ?? {},
    });
  }
}

/** Every message of a topic, from offset 0 to the end offsets as they are when called. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const ends = new Map(
    offsets
      .filter((partition) => BigInt(partition.high) > 0n)
      .map((partition) => [partition.partition, BigInt(partition.high)]),
  );
  const messages: TopicMessage[] = [];
  const seen = new Set<string>();
  if (ends.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `test-read-${randomUUID()}`, maxWaitTimeInMs: 100, maxBytes: 10_485_760 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`read ${messages.length} messages of ${topic}; the end was not reached in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            collect(batch, seen, messages);
            const end = ends.get(batch.partition);
            if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) ends.delete(batch.partition);
            if (ends.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/**
 * Messages of a topic read with read_committed from offset 0 until at least `expected` arrived and
 * then `settleMs` more (end offsets do not tell: a transactional topic ends with commit markers).
 * Extra records arriving in the settle time — duplicates — are returned too, so tests can see them.
 */
export async function readAtLeast(
  kafka: Kafka,
  topic: string,
  expected: number,
  settleMs = 2_000,
  timeoutMs = 90_000,
): Promise<TopicMessage[]> {
  const messages: TopicMessage[] = [];
  const seen = new Set<string>();
  const consumer = kafka.consumer({
    groupId: `test-read-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    maxBytes: 10_485_760,
    readUncommitted: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${messages.length}/${expected} messages of ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      let settling = false;
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            collect(batch, seen, messages);
            if (!settling && messages.length >= expected) {
              settling = true;
              clearTimeout(timer);
              setTimeout(resolve, settleMs);
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
