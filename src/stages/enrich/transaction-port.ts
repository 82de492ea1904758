import type { Message } from 'kafkajs';

/**
 * All the enrichment driver asks of Kafka: one transactional producer per input partition (its
 * transactional id derives from the partition) and the calls of a transaction. The kafkajs
 * adapter (kafka-transaction-port.ts) implements it; the driver's tests use an in-memory log
 * (memory-transactional-log.ts) with the same contract.
 */
export interface TransactionPort {
  /**
   * Takes the partition over: initialises its producer, which fences any earlier owner and aborts
   * that owner's open transaction, then reads the group's committed offset — stable only from
   * then on. Undefined when the group has committed nothing for the partition.
   */
  acquire(partition: number): Promise<bigint | undefined>;
  begin(partition: number): Promise<void>;
  send(partition: number, topic: string, messages: readonly Message[]): Promise<void>;
  /** The consumer offset `next` (the first record not in the transaction), committed with it. */
  sendOffsets(partition: number, next: bigint): Promise<void>;
  commit(partition: number): Promise<void>;
  abort(partition: number): Promise<void>;
  /** Gives the partition's producer up (failure, partition moved, stop). Never throws. */
  release(partition: number): Promise<void>;
}
