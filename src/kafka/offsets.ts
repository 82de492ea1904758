import type { Admin } from 'kafkajs';

/** Offsets by partition (kafkajs gives them as strings; offsets can pass 2^53, so bigint). */
export type OffsetsByPartition = Map<number, bigint>;

/**
 * An offset as kafkajs gives it (a decimal string) as a bigint. Per fetched record, so the common
 * case goes through a number: a string of at most 15 digits is below 2^53, exact as a double, and
 * `BigInt(Number(text))` costs a third of `BigInt(text)`.
 */
export function offsetOf(text: string): bigint {
  return text.length <= 15 ? BigInt(Number(text)) : BigInt(text);
}

/**
 * Each partition's end offset as a read_committed consumer sees it: the last stable offset (records
 * of a transaction still open lie beyond it, up to the high watermark). kafkajs's admin sends no
 * isolation level and its ListOffsets request defaults to read_committed (requests/listOffsets, v2+);
 * test/read-committed.test.ts pins it. Empty when the topic does not exist (yet).
 */
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

/** How many consumers are members of a group now: 0 when nothing consumes for it (or it never existed). */
export async function groupMembers(admin: Admin, group: string): Promise<number> {
  const { groups } = await admin.describeGroups([group]);
  return groups[0]?.members.length ?? 0;
}
