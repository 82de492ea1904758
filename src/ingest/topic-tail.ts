import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KafkaContextError } from '../shared/errors.js';

/** How many records back from the end each partition is read first (ids within a partition only grow). */
const TAIL_DEPTH = 50;

/** The header naming who wrote an event: `generator` (`kappa ingest`) or `api` (`POST /api/events`). */
export const WRITER_HEADER = 'kappa.writer';
/** The header naming which generator wrote an event: its stable writer id (its buffer folder's name). */
export const WRITER_ID_HEADER = 'kappa.writer-id';

/** The headers of every event a generator writes (one object for a whole send: nothing changes it). */
export function generatorHeaders(writerId: string): Readonly<Record<string, string>> {
  return { [WRITER_HEADER]: 'generator', [WRITER_ID_HEADER]: writerId };
}

type Headers = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

/** Whether a record was written by the generator with this writer id. */
export function writtenBy(headers: Headers | undefined, writerId: string): boolean {
  const writer = headers?.[WRITER_ID_HEADER];
  if (writer === undefined) return false;
  const text = Array.isArray(writer) ? writer.map((entry) => entry.toString()).join(',') : writer.toString();
  return text === writerId;
}

/** An event's id from its message: the key is the id as text (what every kappa writer sets). */
export function idFromKey(key: Buffer | null): number | undefined {
  const text = key?.toString();
  return text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/**
 * The largest event id in each non-empty partition of the topic, read from the log itself — the
 * one source of truth for where the id sequence stands, whatever local state was lost. With
 * `writerId`, only that generator's records count: the tail is read deeper and deeper until each
 * partition shows one or is read to its start (other writers' records may sit after them).
 */
export async function lastIdsPerPartition(
  kafka: Kafka,
  topic: string,
  timeoutMs = 60_000,
  writerId?: string,
): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const lastIds = new Map<number, number>();
  let wanted = offsets.filter((partition) => BigInt(partition.high) > BigInt(partition.low));
  for (let depth = TAIL_DEPTH; wanted.length > 0; depth *= 8) {
    const found = await readTails(kafka, topic, wanted, depth, timeoutMs, writerId);
    for (const [partition, id] of found) lastIds.set(partition, id);
    // Partitions read to their start are settled, found or not.
    wanted = wanted.filter(
      (partition) => !found.has(partition.partition) && BigInt(partition.high) - BigInt(depth) > BigInt(partition.low),
    );
  }
  return lastIds;
}

async function readTails(
  kafka: Kafka,
  topic: string,
  wanted: readonly { partition: number; high: string; low: string }[],
  depth: number,
  timeoutMs: number,
  writerId: string | undefined,
): Promise<Map<number, number>> {
  const lastIds = new Map<number, number>();

  const partitions = new Set(wanted.map((partition) => partition.partition));
  const pending = new Set(partitions);
  const consumer = kafka.consumer({ groupId: `kappa-tail-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new KafkaContextError(
              'KAPPA_INGEST_TAIL_TIMEOUT',
              `could not read the end of ${topic} within ${timeoutMs} ms`,
              { topic },
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            if (!partitions.has(batch.partition)) return Promise.resolve();
            for (const message of batch.messages) {
              if (writerId !== undefined && !writtenBy(message.headers, writerId)) continue;
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
        const from = BigInt(high) - BigInt(depth);
        consumer.seek({ topic, partition, offset: String(from > BigInt(low) ? from : BigInt(low)) });
      }
    });
  } finally {
    await consumer.disconnect();
  }
  return lastIds;
}
