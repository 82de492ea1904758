import type { Admin } from 'kafkajs';

/** Offsets by partition (kafkajs gives them as strings; offsets can pass 2^53, so bigint). */
export type OffsetsByPartition = Map<number, bigint>;

/** Each partition's end offset (high watermark); empty when the topic does not exist (yet). */
export async function endOffsets(admin: Admin, topic: string): Promise<OffsetsByPartition> {
  const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
  return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
}

/** A consumer group's committed offsets on a topic; a partition never committed is at 0. */
export async function committedOffsets(admin: Admin, group: string, topic: string): Promise<OffsetsByPartition> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map(
    (offsets?.partitions ?? []).map((entry) => [
      entry.partition,
      BigInt(entry.offset) < 0n ? 0n : BigInt(entry.offset),
    ]),
  );
}
