import type { Kafka } from 'kafkajs';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { newestSchema } from '../registry/schema-history.js';
import { scanTopic } from '../kafka/topic-scan.js';
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
  // The decoder is made on the first batch: a log with nothing left to read needs no schemas.
  let decoding: Promise<AvroDecoder<EnrichedEvent>> | undefined;
  const timeOf = cachedTimeParser(source.timeZone);
  const maxFutureMs = source.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const scan = await scanTopic(
    kafka,
    topic,
    async ({ partition, records }) => {
      decoding ??= newestSchema(source.schemasDir, 'events_stages').then(
        (schema) => new AvroDecoder<EnrichedEvent>(source.registryUrl, schema),
      );
      const decoder = await decoding;
      for (const record of records) {
        const decoded = await decoder.decode(record.value);
        const time = decoded.ok ? timeOf(decoded.value.time) : undefined;
        // Bounded by the record's timestamp in the log, as the aggregator bounds it.
        analyser.record(partition, time, { timestampMs: record.timestampMs, maxFutureMs });
      }
    },
    {
      group: 'kappa-lateness',
      concurrent: true,
      from: options.from,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
  if (!scan.exists) throw new KappaError('KAPPA_LATENESS_NO_TOPIC', `the stages topic ${topic} does not exist`);
  logger.debug({ topic, offsets: Object.fromEntries([...scan.next].map(([p, o]) => [p, String(o)])) }, 'lateness read');
  return { offsets: scan.next, complete: scan.complete };
}
