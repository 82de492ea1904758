import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { KappaError } from '../shared/errors.js';
import { parseEventTime } from '../shared/event-time.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichedEvent } from '../model/enriched-event.js';
import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import type { LatenessAnalyser } from './analyser.js';

export interface StagesLogSource {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly schemasDir: string;
  readonly topic: string;
  readonly timeZone: string;
  /** KAPPA_MAX_FUTURE: a time further ahead of its record's timestamp is future-time, no event (default 1 h). */
  readonly maxFutureMs?: number;
  readonly logger: Logger;
}

export interface ReadOptions {
  /** Where an earlier read of the same analyser stopped (next offset per partition); else the log's start. */
  readonly from?: ReadonlyMap<number, bigint>;
  readonly signal?: AbortSignal;
  /** Called after each batch with records read so far and the records to read in all. */
  readonly onProgress?: (done: bigint, total: bigint) => void;
}

export interface ReadResult {
  /** Next offset per partition: what the analyser's numbers are valid for. */
  readonly offsets: ReadonlyMap<number, bigint>;
  /** Whether every partition was read to the end offsets seen at the start (false: aborted). */
  readonly complete: boolean;
}

/** The aggregator's reader schema for the stages topic: the newest version in schemas/. */
async function stagesDecoder(registryUrl: string, schemasDir: string): Promise<AvroDecoder<EnrichedEvent>> {
  const histories = await loadSchemaHistories(schemasDir);
  const schema = histories.find((history) => history.name === 'events_stages')?.versions.at(-1)?.schema;
  if (schema === undefined)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', 'the schemas directory has no events_stages/ history');
  return new AvroDecoder<EnrichedEvent>(registryUrl, schema);
}

/** parseEventTime, remembered: consecutive records mostly share their second. Pure, so caching is safe. */
function cachedTimeParser(zone: string): (text: string) => number | undefined {
  const cache = new Map<string, number | undefined>();
  return (text) => {
    if (cache.has(text)) return cache.get(text);
    if (cache.size >= 4_096) cache.clear();
    const time = parseEventTime(text, zone);
    cache.set(text, time);
    return time;
  };
}

/**
 * Feeds the stages log into `analyser`, partition by partition in log order (read_committed, the
 * aggregator's decoder and time parser), up to the end offsets seen when it starts. Offsets are
 * never committed: a throw-away consumer group only gets the partitions assigned.
 */
export async function readStagesLog(
  analyser: LatenessAnalyser,
  source: StagesLogSource,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const { kafka, topic, logger } = source;
  const admin = kafka.admin();
  await admin.connect();
  let bounds: { partition: number; low: bigint; high: bigint }[];
  try {
    if (!(await admin.listTopics()).includes(topic))
      throw new KappaError('KAPPA_LATENESS_NO_TOPIC', `the stages topic ${topic} does not exist`);
    bounds = (await admin.fetchTopicOffsets(topic)).map((entry) => ({
      partition: entry.partition,
      low: BigInt(entry.low),
      high: BigInt(entry.high),
    }));
  } finally {
    await admin.disconnect();
  }
  const next = new Map<number, bigint>();
  const ends = new Map<number, bigint>();
  let total = 0n;
  for (const { partition, low, high } of bounds) {
    const start = options.from?.get(partition) ?? low;
    next.set(partition, start > low ? start : low);
    ends.set(partition, high);
    if (high > start) total += high - start;
  }
  const remaining = () => [...ends].filter(([partition, end]) => (next.get(partition) ?? 0n) < end);
  if (remaining().length === 0) return { offsets: next, complete: true };

  const decoder = await stagesDecoder(source.registryUrl, source.schemasDir);
  const timeOf = cachedTimeParser(source.timeZone);
  const maxFutureMs = source.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const consumer = kafka.consumer({
    groupId: `kappa-lateness-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytes: 10_485_760,
  });
  let done = 0n;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const finished = new Promise<boolean>((resolve, reject) => {
      const abort = () => resolve(false);
      if (options.signal?.aborted === true) abort();
      options.signal?.addEventListener('abort', abort, { once: true });
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: Math.max(1, bounds.length),
          eachBatch: async ({ batch }) => {
            const from = next.get(batch.partition) ?? 0n;
            for (const message of batch.messages) {
              if (BigInt(message.offset) < from) continue;
              const decoded = await decoder.decode(message.value);
              const time = decoded.ok ? timeOf(decoded.value.time) : undefined;
              // Bounded by the record's timestamp in the log, as the aggregator bounds it.
              analyser.record(batch.partition, time, { timestampMs: Number(message.timestamp), maxFutureMs });
            }
            // Control records (transaction markers) and aborted records count as read too.
            if (batch.firstOffset() !== null) {
              const end = BigInt(batch.lastOffset()) + 1n;
              if (end > from) {
                done += end - from;
                next.set(batch.partition, end);
              }
            }
            options.onProgress?.(done, total);
            if (remaining().length === 0) resolve(true);
          },
        })
        .catch(reject);
    });
    // Resume where the earlier read stopped (kafkajs applies seeks once the partition is assigned;
    // anything fetched below them is skipped above).
    for (const [partition, offset] of next) consumer.seek({ topic, partition, offset: String(offset) });
    const complete = await finished;
    logger.debug({ topic, offsets: Object.fromEntries([...next].map(([p, o]) => [p, String(o)])) }, 'lateness read');
    return { offsets: new Map(next), complete };
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
