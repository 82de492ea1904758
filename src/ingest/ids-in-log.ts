import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KafkaContextError } from '../shared/errors.js';
import { idFromKey, WRITER_HEADER } from './topic-tail.js';

/**
 * Which ids in `first..last` written by `writer` (the writer header) the topic holds, reading each
 * partition from `from` (its end offset before they were sent) to its current end. The ids of a
 * send that failed half-way: what a retry need not send again.
 */
export async function idsInLog(
  kafka: Kafka,
  topic: string,
  options: {
    readonly from: ReadonlyMap<number, string>;
    readonly first: number;
    readonly last: number;
    readonly writer: string;
    readonly timeoutMs?: number;
  },
): Promise<Set<number>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const ends = new Map<number, bigint>();
  for (const { partition, high, low } of offsets) {
    const start = BigInt(options.from.get(partition) ?? low);
    if (BigInt(high) > (start > BigInt(low) ? start : BigInt(low))) ends.set(partition, BigInt(high));
  }
  const found = new Set<number>();
  if (ends.size === 0) return found;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pending = new Set(ends.keys());
  const consumer = kafka.consumer({ groupId: `kappa-ids-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new KafkaContextError('KAPPA_INGEST_TAIL_TIMEOUT', `could not read ${topic} within ${timeoutMs} ms`, {
              topic,
            }),
          ),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined || !pending.has(batch.partition)) return Promise.resolve();
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break;
              if (message.headers?.[WRITER_HEADER]?.toString() !== options.writer) continue;
              const id = idFromKey(message.key);
              if (id !== undefined && id >= options.first && id <= options.last) found.add(id);
            }
            if (batch.offsetLag() === '0' || BigInt(batch.lastOffset()) + 1n >= end) pending.delete(batch.partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
      for (const [partition] of ends) {
        const low = BigInt(offsets.find((entry) => entry.partition === partition)?.low ?? '0');
        const start = BigInt(options.from.get(partition) ?? low);
        consumer.seek({ topic, partition, offset: String(start > low ? start : low) });
      }
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}
