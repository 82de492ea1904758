import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { classify } from '../aggregates/batch-plan.js';
import type { Dimension } from '../model/dimensions.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichedEvent } from '../model/enriched-event.js';
import type { PartitionOffsets } from './catch-up.js';
import type { VersionReplay } from './explain.js';

/** A version to replay: its stages topic, read up to its committed progress, decoded as its aggregator does. */
export interface ReplayTarget {
  readonly replay: VersionReplay;
  readonly topic: string;
  /** The version's committed progress (next offset per partition): the rows it wrote come from the records before it. */
  readonly until: PartitionOffsets;
  readonly timeZone: string;
  readonly dims: readonly Dimension[];
  /** The event-time bound the version's aggregator applied (KAPPA_MAX_FUTURE). */
  readonly maxFutureMs?: number;
}

export interface LogSource {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly schemasDir: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

async function stagesDecoder(registryUrl: string, schemasDir: string): Promise<AvroDecoder<EnrichedEvent>> {
  const histories = await loadSchemaHistories(schemasDir);
  const schema = histories.find((history) => history.name === 'events_stages')?.versions.at(-1)?.schema;
  if (schema === undefined)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', 'the schemas directory has no events_stages/ history');
  return new AvroDecoder<EnrichedEvent>(registryUrl, schema);
}

/**
 * Feeds each target's stages log into its replay, partition by partition in log order, from the
 * log's start up to the target's committed progress (read_committed, the aggregator's decoder and
 * `classify`). Targets on the same topic share one read. The read is bounded by the progress, not
 * by the window: an event of any window may sit anywhere before it in the log (a late event), so
 * correctness needs the whole prefix — the cost is one pass over what the versions consumed.
 */
export async function replayLogs(targets: readonly ReplayTarget[], source: LogSource): Promise<void> {
  const decoder = await stagesDecoder(source.registryUrl, source.schemasDir);
  const topics = new Map<string, ReplayTarget[]>();
  for (const target of targets) topics.set(target.topic, [...(topics.get(target.topic) ?? []), target]);
  for (const [topic, sharing] of topics) await replayTopic(topic, sharing, decoder, source);
}

async function replayTopic(
  topic: string,
  targets: readonly ReplayTarget[],
  decoder: AvroDecoder<EnrichedEvent>,
  source: LogSource,
): Promise<void> {
  const admin = source.kafka.admin();
  await admin.connect();
  let bounds: { partition: number; low: bigint; high: bigint }[];
  try {
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
  for (const { partition, low, high } of bounds) {
    let end = 0n;
    for (const target of targets) {
      const until = target.until.get(partition) ?? 0n;
      if (until > end) end = until;
    }
    next.set(partition, low);
    ends.set(partition, end < high ? end : high);
  }
  const remaining = () => [...ends].filter(([partition, end]) => (next.get(partition) ?? 0n) < end);
  if (remaining().length === 0) return;
  const consumer = source.kafka.consumer({
    groupId: `kappa-explain-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytes: 10_485_760,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const abort = () => reject(new KappaError('KAPPA_EXPLAIN_STOPPED', 'the explanation was stopped'));
      if (source.signal?.aborted === true) abort();
      source.signal?.addEventListener('abort', abort, { once: true });
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: Math.max(1, bounds.length),
          eachBatch: async ({ batch }) => {
            const partition = batch.partition;
            const from = next.get(partition) ?? 0n;
            const end = ends.get(partition) ?? 0n;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < from || offset >= end) continue;
              const decoded = await decoder.decode(message.value);
              for (const target of targets) {
                if (offset >= (target.until.get(partition) ?? 0n)) continue;
                const classified = classify(decoded, {
                  timeZone: target.timeZone,
                  dims: target.dims,
                  window: target.replay.settings,
                  timestampMs: Number(message.timestamp),
                  maxFutureMs: target.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
                });
                // Bad records count nowhere in the version (dead-lettered): nothing to attribute.
                if (classified.kind !== 'event' || !decoded.ok) continue;
                target.replay.step({
                  partition,
                  offset,
                  id: String(decoded.value.id),
                  time: classified.event.time,
                  keys: classified.event.keys,
                });
              }
            }
            // Control records (transaction markers) and aborted records count as read too.
            if (batch.firstOffset() !== null) {
              const after = BigInt(batch.lastOffset()) + 1n;
              if (after > from) next.set(partition, after);
            }
            if (remaining().length === 0) resolve();
          },
        })
        .catch(reject);
    });
    source.logger.debug({ topic, targets: targets.map((target) => target.replay.version) }, 'explanation log read');
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
