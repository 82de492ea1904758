import type { BufferedRecord } from './disk-buffer.js';

/**
 * A chunk's records split into one batch per partition, each in id order, partitions ascending.
 *
 * The generator sends each batch as a request of its own (one partition, so one leader): kafkajs
 * 2.2.4 retries a multi-leader send by re-sending to every leader that has not answered yet, and a
 * request still waiting for acks=all on a live leader (its follower was just killed) has taken its
 * sequence numbers already, so the retry re-sends that leader's partitions with new sequence
 * numbers — the broker stores them twice. With one partition per send, a retry only ever repeats
 * the one request that failed, with the sequence numbers it had, and the broker drops the copy.
 */
export function partitionBatches(records: readonly BufferedRecord[]): BufferedRecord[][] {
  const batches = new Map<number, BufferedRecord[]>();
  for (const record of records) {
    const batch = batches.get(record.partition);
    if (batch === undefined) batches.set(record.partition, [record]);
    else batch.push(record);
  }
  return [...batches.entries()].sort(([a], [b]) => a - b).map(([, batch]) => batch.sort((a, b) => a.id - b.id));
}
