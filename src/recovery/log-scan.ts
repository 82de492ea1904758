import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { StagedRecord } from '../aggregates/aggregation-driver.js';
import { KappaError } from '../shared/errors.js';

export interface ScannedBatch {
  readonly partition: number;
  /** Records of the batch in log order, at or past where the scan of the partition stands. */
  readonly records: readonly StagedRecord[];
  /** One past the batch's last offset (transaction markers included): where the partition now stands. */
  readonly end: bigint;
  /** Where the partition was before this batch. */
  readonly from: bigint;
  /** Records remain in the partition after this batch (a backlog). */
  readonly more: boolean;
}

/**
 * Reads `topic` from its first offsets to the end offsets seen when it starts (read_committed, the
 * aggregator's view), partition by partition in log order, handing each batch to `onBatch`. A
 * throw-away consumer group that commits nothing: `recover --plan` and the preflight change nothing.
 * Returns the end offsets it read to (none when the topic does not exist).
 */
export async function scanLog(
  kafka: Kafka,
  topic: string,
  onBatch: (batch: ScannedBatch) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<ReadonlyMap<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  let bounds: { partition: number; low: bigint; high: bigint }[];
  try {
    // No topic yet: nothing to replay (a full chain's new stages topic, a pipeline not started).
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    bounds = (await admin.fetchTopicOffsets(topic)).map((entry) => ({
      partition: entry.partition,
      low: BigInt(entry.low),
      high: BigInt(entry.high),
    }));
  } finally {
    await admin.disconnect();
  }
  const next = new Map(bounds.map((entry) => [entry.partition, entry.low]));
  const ends = new Map(bounds.map((entry) => [entry.partition, entry.high]));
  const remaining = () => [...ends].some(([partition, end]) => (next.get(partition) ?? 0n) < end);
  if (!remaining()) return ends;
  const consumer = kafka.consumer({
    groupId: `kappa-plan-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytes: 10_485_760,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // kafkajs calls no eachBatch for a fetch of transaction markers only (as in aggregates/run.ts):
      // a log ending with a marker is read to its end all the same.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || payload.firstOffset === null || payload.topic !== topic) return;
        const end = BigInt(payload.lastOffset) + 1n;
        if (end > (next.get(payload.partition) ?? 0n)) next.set(payload.partition, end);
        if (!remaining()) resolve();
      });
      const abort = () => reject(new KappaError('KAPPA_RECOVER_REFUSED', 'the scan of the log was stopped'));
      if (signal?.aborted === true) abort();
      signal?.addEventListener('abort', abort, { once: true });
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: 1,
          eachBatch: async ({ batch }) => {
            const from = next.get(batch.partition) ?? 0n;
            const end = ends.get(batch.partition) ?? 0n;
            const records = batch.messages
              .filter((message) => BigInt(message.offset) >= from && BigInt(message.offset) < end)
              .map((message) => ({
                offset: BigInt(message.offset),
                timestampMs: Number(message.timestamp),
                key: message.key,
                value: message.value,
              }));
            const last = batch.firstOffset() === null ? from : BigInt(batch.lastOffset()) + 1n;
            const reached = last > end ? end : last;
            if (records.length > 0 || reached > from) {
              await onBatch({ partition: batch.partition, records, from, end: reached, more: reached < end });
              next.set(batch.partition, reached > from ? reached : from);
            }
            if (!remaining()) resolve();
          },
        })
        .catch(reject);
    });
    return ends;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
