import type { Admin, Kafka } from 'kafkajs';
import { retry } from '../shared/retry.js';
import { asKafkaError, isClusterSettling, isUnknownTopic } from './kafka-errors.js';

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
 * test/read-committed.test.ts pins it.
 *
 * Empty only when the topic does not exist. Any other failure is thrown, never taken for an empty
 * log: `recover --until-caught-up` once took a failed read for a backlog of nothing and returned
 * before replaying a record. A cluster still settling its leaders (a topic just created, a broker
 * restarting: NOT_LEADER_FOR_PARTITION, which kafkajs does not retry here) is waited out for up to
 * `settleMs`; an unreachable broker becomes a retriable KafkaUnreachableError (kafkajs has retried).
 */
export async function endOffsets(admin: Admin, topic: string, settleMs = 10_000): Promise<OffsetsByPartition> {
  try {
    const offsets = await settledTopicOffsets(admin, topic, settleMs);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  } catch (error) {
    if (isUnknownTopic(error)) return new Map();
    return asKafkaError(error);
  }
}

/** kafkajs's `fetchTopicOffsets`, waiting out a cluster still settling its leaders for up to `settleMs`. */
function settledTopicOffsets(admin: Admin, topic: string, settleMs = 10_000) {
  return retry(() => admin.fetchTopicOffsets(topic), {
    deadlineMs: settleMs,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    retriable: isClusterSettling,
  });
}

/**
 * Where `partition` of `topic` starts: its earliest offset (above 0 once retention removed
 * records). Asks a short-lived admin client of `kafka`: for the rare question, not a loop.
 */
export async function logStartOffset(kafka: Kafka, topic: string, partition: number): Promise<bigint> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const offsets = await settledTopicOffsets(admin, topic);
    return BigInt(offsets.find((entry) => entry.partition === partition)?.low ?? '0');
  } catch (error) {
    return asKafkaError(error);
  } finally {
    await admin.disconnect();
  }
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
