import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { timestampMsOf } from './record-decoder.js';

/** One record of a scanned topic: what the aggregator's driver and the analyses read of it. */
export interface ScannedRecord {
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface ScannedBatch {
  readonly partition: number;
  /** Records of the batch in log order, from where the scan of the partition stands to its stop offset. */
  readonly records: readonly ScannedRecord[];
  /** Where the partition was before this batch. */
  readonly from: bigint;
  /** One past the batch's last offset (transaction markers included), at most the stop: where the partition now stands. */
  readonly end: bigint;
  /** Records remain in the partition after this batch (a backlog). */
  readonly more: boolean;
}

export interface ScanOptions {
  /** Names the throw-away consumer group (`<group>-<uuid>`): what is reading, for the broker's logs. */
  readonly group: string;
  /** Where to start, by partition (an earlier scan's `next`); absent or below the log start: the log start. */
  readonly from?: ReadonlyMap<number, bigint>;
  /**
   * Where to stop, by partition (exclusive; a version's committed progress); a partition absent is
   * not read. Never past the end offsets seen when the scan starts. Absent: those end offsets.
   */
  readonly until?: ReadonlyMap<number, bigint>;
  /** Partitions read in parallel (each still in log order); else one batch at a time. */
  readonly concurrent?: boolean;
  /** Stops the scan: it returns with `complete: false`. */
  readonly signal?: AbortSignal;
  /** After each batch: offsets read so far and offsets to read in all (transaction markers count). */
  readonly onProgress?: (done: bigint, total: bigint) => void;
}

export interface ScanResult {
  /** The topic exists (a scan of one that does not reads nothing). */
  readonly exists: boolean;
  /** Where each partition's scan stopped: its stop offset unless aborted. */
  readonly next: ReadonlyMap<number, bigint>;
  /** The stop offsets (the end offsets seen at the start, or `until` below them). */
  readonly ends: ReadonlyMap<number, bigint>;
  /** Every partition was read to its stop offset (false: aborted). */
  readonly complete: boolean;
}

interface Bounds {
  readonly next: Map<number, bigint>;
  readonly ends: Map<number, bigint>;
  readonly total: bigint;
}

async function boundsOf(kafka: Kafka, topic: string, options: ScanOptions): Promise<Bounds | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // No topic yet: nothing to read (a full chain's new stages topic, a pipeline not started).
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    // read_committed end offsets (the last stable offset: see offsets.ts's endOffsets).
    const offsets = await admin.fetchTopicOffsets(topic);
    const next = new Map<number, bigint>();
    const ends = new Map<number, bigint>();
    let total = 0n;
    for (const entry of offsets) {
      const [low, high] = [BigInt(entry.low), BigInt(entry.high)];
      const wanted = options.from?.get(entry.partition) ?? low;
      const start = wanted > low ? wanted : low;
      const until = options.until === undefined ? high : (options.until.get(entry.partition) ?? start);
      const end = until < high ? until : high;
      next.set(entry.partition, start);
      ends.set(entry.partition, end > start ? end : start);
      if (end > start) total += end - start;
    }
    return { next, ends, total };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topic` from where `from` says (the log's start) to the stop offsets (`until`, never past
 * the end offsets seen when it starts), read_committed — the aggregator's view — partition by
 * partition in log order, handing each batch to `onBatch`. A throw-away consumer group that
 * commits nothing: the scan changes nothing. What `recover --plan` and its preflight, the lateness
 * analysis and explanations read the stages log with.
 */
export async function scanTopic(
  kafka: Kafka,
  topic: string,
  onBatch: (batch: ScannedBatch) => Promise<void> | void,
  options: ScanOptions,
): Promise<ScanResult> {
  const bounds = await boundsOf(kafka, topic, options);
  if (bounds === undefined) return { exists: false, next: new Map(), ends: new Map(), complete: true };
  const { next, ends, total } = bounds;
  const result = (complete: boolean): ScanResult => ({ exists: true, next: new Map(next), ends, complete });
  const remaining = () => [...ends].some(([partition, end]) => (next.get(partition) ?? 0n) < end);
  if (!remaining()) return result(true);
  let done = 0n;
  const advance = (partition: number, to: bigint) => {
    const from = next.get(partition) ?? 0n;
    if (to <= from) return;
    done += to - from;
    next.set(partition, to);
    options.onProgress?.(done, total);
  };
  const consumer = kafka.consumer({
    groupId: `${options.group}-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    // The aggregator's fetch sizes (aggregates/run.ts): kafkajs decodes a whole fetch into objects
    // that live while it is handed over; at 10 MiB a fetch the preflight of 1M records spent 37 % of
    // its time in the garbage collector and took 3.3 s, at these 2.2 s (bench/README.md).
    maxBytesPerPartition: 256 * 1024,
    maxBytes: 4 * 1024 * 1024,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const finished = new Promise<boolean>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted === true) resolve(false);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
      // kafkajs calls no eachBatch for a fetch of transaction markers only (as in aggregates/run.ts):
      // a log (or a version's progress) ending with a marker is read to its end all the same.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || payload.firstOffset === null || payload.topic !== topic) return;
        const end = ends.get(payload.partition) ?? 0n;
        const after = BigInt(payload.lastOffset) + 1n;
        advance(payload.partition, after < end ? after : end);
        if (!remaining()) resolve(true);
      });
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: options.concurrent === true ? Math.max(1, ends.size) : 1,
          eachBatch: async ({ batch }) => {
            const { partition } = batch;
            const from = next.get(partition) ?? 0n;
            const end = ends.get(partition) ?? 0n;
            const records: ScannedRecord[] = [];
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset >= from && offset < end)
                records.push({
                  offset,
                  timestampMs: timestampMsOf(message),
                  key: message.key,
                  value: message.value,
                });
            }
            // Control records (transaction markers) and aborted records count as read too.
            const last = batch.firstOffset() === null ? from : BigInt(batch.lastOffset()) + 1n;
            const reached = last > end ? end : last;
            if (records.length > 0 || reached > from) {
              await onBatch({ partition, records, from, end: reached, more: reached < end });
              advance(partition, reached);
            }
            if (!remaining()) resolve(true);
          },
        })
        .catch(reject);
    });
    // Start where `from` says (kafkajs applies seeks once the partition is assigned; anything
    // fetched below them is skipped above).
    if (options.from !== undefined)
      for (const [partition, offset] of next) consumer.seek({ topic, partition, offset: String(offset) });
    return result(await finished);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
