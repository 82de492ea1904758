/**
 * kafkajs's producer groups the messages of every `send` by partition with
 * `Object.assign(result, { [partition]: [...current, message] })`: a copy of the partition's array
 * per message, O(n²) in the messages bound for one partition (upstream pull request #1576, never
 * merged). Partition-preserving enrichment sends up to 2,000 records to ONE partition per request,
 * so that copying was ~12 % of the stage's CPU plus the garbage it leaves. This is the same
 * grouping in one pass; src/kafka/kafkajs.ts puts it in kafkajs's place.
 */

/** What kafkajs's partitioner is called with (kafkajs/src/producer/groupMessagesPerPartition.js). */
export interface GroupingInput<M> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** Messages by partition, each partition's in the order given; `{}` without partition metadata. */
export function groupMessagesPerPartition<M>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupingInput<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}
