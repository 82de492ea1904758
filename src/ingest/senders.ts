import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from '../kafka/kafkajs.js';

/** The most producers one generator sends through (with more partitions, several share one). */
export const MAX_SENDERS = 3;

/**
 * The idempotent producer (acks=all, the broker de-duplicates its retries) with unbounded retries
 * and a short back-off: during an outage a send waits and resumes by itself, with the same
 * sequence numbers, so the broker never stores a record twice.
 */
function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/**
 * Producers sending a chunk's partition batches side by side, a partition always through the same
 * one. A batch is one partition (partition-batches.ts), but kafkajs's idempotent producer holds a
 * lock per broker across its whole send — compression, request and acknowledgement — so with one
 * producer the three batches of a chunk went one after the other. Each producer is idempotent on
 * its own (its own producer id and sequence numbers per partition): what one of them retries, the
 * broker still de-duplicates.
 */
export class Senders {
  private constructor(private readonly producers: readonly Producer[]) {}

  /** min(partitions, MAX_SENDERS) connected producers; none left connected when one cannot connect. */
  static async connect(kafka: Kafka, partitions: number): Promise<Senders> {
    const producers = Array.from({ length: Math.max(1, Math.min(MAX_SENDERS, partitions)) }, () =>
      createProducer(kafka),
    );
    const senders = new Senders(producers);
    try {
      await Promise.all(producers.map((producer) => producer.connect()));
    } catch (error) {
      await senders.disconnect();
      throw error;
    }
    return senders;
  }

  /** The producer of `partition`'s records. */
  of(partition: number): Producer {
    return this.producers[partition % this.producers.length] as Producer;
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.disconnect().catch(() => undefined)));
  }
}
