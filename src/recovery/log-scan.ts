import type { Kafka } from 'kafkajs';
import { scanTopic, type ScannedBatch } from '../kafka/topic-scan.js';
import { KappaError } from '../shared/errors.js';

/**
 * Reads `topic` from its first offsets (or, by partition, `from`) to the end offsets seen when it starts (read_committed, the
 * aggregator's view), one batch at a time in log order, handing each batch to `onBatch`: what
 * `recover --plan` and the preflight read, changing nothing. Returns the end offsets it read to
 * (none when the topic does not exist).
 */
export async function scanLog(
  kafka: Kafka,
  topic: string,
  onBatch: (batch: ScannedBatch) => Promise<void> | void,
  signal?: AbortSignal,
  from?: ReadonlyMap<number, bigint>,
): Promise<ReadonlyMap<number, bigint>> {
  const scan = await scanTopic(kafka, topic, onBatch, {
    group: 'kappa-plan',
    signal,
    ...(from === undefined ? {} : { from }),
  });
  if (!scan.complete) throw new KappaError('KAPPA_RECOVER_REFUSED', 'the scan of the log was stopped');
  return scan.ends;
}
