import { DEFAULT_MAX_FUTURE_MS } from '../shared/time-bounds.js';
import type { Kafka } from 'kafkajs';
import { classifier } from '../aggregates/batch-plan.js';
import type { Dimension } from '../model/dimensions.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { newestSchema } from '../registry/schema-history.js';
import { scanTopic } from '../kafka/topic-scan.js';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichedEvent } from '../model/enriched-event.js';
import type { PartitionOffsets } from './catch-up.js';
import type { VersionReplay } from './explain.js';

/** A version to replay: its stages topic, read up to its committed progress, decoded as its aggregator does. */
export interface ReplayTarget {
  readonly replay: VersionReplay;
  readonly topic: string;
  /** Where an earlier read of this replay stopped (next offset per partition); absent: the log's start. */
  readonly from?: PartitionOffsets;
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

/**
 * Feeds each target's stages log into its replay, partition by partition in log order, from the
 * log's start (or where the replay's earlier read stopped) up to the target's committed progress (read_committed, the aggregator's decoder and
 * `classify`). Targets on the same topic share one read. The read is bounded by the progress, not
 * by the window: an event of any window may sit anywhere before it in the log (a late event), so
 * correctness needs the whole prefix — the cost is one pass over what the versions consumed.
 */
export async function replayLogs(targets: readonly ReplayTarget[], source: LogSource): Promise<void> {
  const decoder = new AvroDecoder<EnrichedEvent>(
    source.registryUrl,
    await newestSchema(source.schemasDir, 'events_stages'),
  );
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
  // One read from the earliest start to the furthest progress; each target takes its own range.
  const until = new Map<number, bigint>();
  for (const target of targets)
    for (const [partition, offset] of target.until)
      if (offset > (until.get(partition) ?? 0n)) until.set(partition, offset);
  const from = new Map<number, bigint>();
  for (const partition of until.keys())
    from.set(
      partition,
      targets.reduce(
        (low, target) => {
          const start = target.from?.get(partition) ?? 0n;
          return start < low ? start : low;
        },
        until.get(partition) ?? 0n,
      ),
    );
  // Each target's classification, set up once for its settings (not once per record).
  const classifying = targets.map((target) => ({
    target,
    classify: classifier({
      timeZone: target.timeZone,
      dims: target.dims,
      window: target.replay.settings,
      maxFutureMs: target.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    }),
  }));
  const scan = await scanTopic(
    source.kafka,
    topic,
    async ({ partition, records }) => {
      for (const record of records) {
        const decoded = await decoder.decode(record.value);
        for (const { target, classify } of classifying) {
          if (record.offset >= (target.until.get(partition) ?? 0n)) continue;
          if (record.offset < (target.from?.get(partition) ?? 0n)) continue;
          const classified = classify(decoded, record.timestampMs);
          // Bad records count nowhere in the version (dead-lettered): nothing to attribute.
          if (classified.kind !== 'event' || !decoded.ok) continue;
          target.replay.step({
            partition,
            offset: record.offset,
            id: String(decoded.value.id),
            time: classified.event.time,
            keys: classified.event.keys,
          });
        }
      }
    },
    { group: 'kappa-explain', from, until, concurrent: true, signal: source.signal },
  );
  if (!scan.complete) throw new KappaError('KAPPA_EXPLAIN_STOPPED', 'the explanation was stopped');
  source.logger.debug({ topic, targets: targets.map((target) => target.replay.version) }, 'explanation log read');
}
