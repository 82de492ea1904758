import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KappaError } from '../shared/errors.js';

/** How many records back from the end each partition is read (ids within a partition only grow). */
const TAIL_DEPTH = 50;

/** An event's id from its message: the key is the id as text (what every kappa writer sets). */
export function idFromKey(key: Buffer | null): number | undefined {
  const text = key?.toString();
  return text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/**
 * The largest event id in each non-empty partition of the topic, read from the log itself — the
 * one source of truth for where the id sequence stands, whatever local state was lost.
 */
export async function lastIdsPerPartition(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const wanted = offsets.filter((partition) => BigInt(partition.high) > BigInt(partition.low));
  const lastIds = new Map<number, number>();
  if (wanted.length === 0) return lastIds;

  const pending = new Set(wanted.map((partition) => partition.partition));
  const consumer = kafka.consumer({ groupId: `kappa-tail-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new KappaError('KAPPA_INGEST_TAIL_TIMEOUT', `could not read the end of ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            for (const message of batch.messages) {
              const id = idFromKey(message.key);
              if (id !== undefined) lastIds.set(batch.partition, Math.max(lastIds.get(batch.partition) ?? -1, id));
            }
            if (batch.offsetLag() === '0') pending.delete(batch.partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
      for (const { partition, high, low } of wanted) {
        const from = BigInt(high) - BigInt(TAIL_DEPTH);
        consumer.seek({ topic, partition, offset: String(from > BigInt(low) ? from : BigInt(low)) });
      }
    });
  } finally {
    await consumer.disconnect();
  }
  return lastIds;
}
