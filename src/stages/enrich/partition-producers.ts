import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Partitioners } from '../../kafka/kafkajs.js';
import { enrichTransactionalId } from '../../kafka/topics.js';

export interface PartitionProducer {
  readonly producer: Producer;
  /**
   * The group's committed offset for the partition (-1: none), read once this producer had fenced
   * earlier owners. The EnrichmentDriver skips the records below it: already processed by the old
   * owner (kafkajs re-delivers a batch after an error or a rebalance even when part of it was committed).
   */
  readonly committed: bigint;
}

/**
 * A transactional producer per input partition, created when a batch of that partition first
 * arrives. Initialising it fences any earlier owner of the partition (same transactional id) and
 * aborts its open transaction; only then is the committed offset read — it is stable at that
 * point — and records below it are skipped: they were already enriched and committed by the old
 * owner after this instance fetched them (the race KIP-447 closes in clients that support it).
 */
export class PartitionProducers {
  private readonly producers = new Map<number, Promise<PartitionProducer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly group: string,
    private readonly topic: string,
  ) {}

  private async create(partition: number): Promise<PartitionProducer> {
    const producer = this.kafka.producer({
      transactionalId: enrichTransactionalId(this.group, this.topic, partition),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The first send after a commit often meets CONCURRENT_TRANSACTIONS while the broker is still
      // writing the previous transaction's markers (a few ms): kafkajs retries it like any error,
      // first after 300 ms by default — a stall per transaction. Java's producer retries that case
      // after 20 ms; a 25 ms first backoff and 9 retries keep kafkajs's total patience (~10 s).
      retry: { initialRetryTime: 25, retries: 9 },
    });
    await producer.connect();
    // kafkajs's connect() only gets an idempotent producer id: the transactional one, which fences
    // earlier owners and ends their open transaction, is asked by the first transaction(). Ask it
    // now, before the committed offset is read; ending the empty transaction sends nothing.
    await (await producer.transaction()).abort();
    // The old owner's last transaction may have committed just before it died: initialising the
    // producer waits for that commit, but the group coordinator applies its offsets a moment later,
    // and kafkajs cannot ask for stable offsets (KIP-447's requireStable). Read until two reads agree.
    let committed = await this.committedOffset(partition);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await sleep(300);
      const again = await this.committedOffset(partition);
      if (again === committed) break;
      committed = again;
    }
    return { producer, committed };
  }

  private async committedOffset(partition: number): Promise<bigint> {
    const [offsets] = await this.admin.fetchOffsets({ groupId: this.group, topics: [this.topic] });
    return BigInt(offsets?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1');
  }

  get(partition: number): Promise<PartitionProducer> {
    let entry = this.producers.get(partition);
    if (entry === undefined) {
      entry = this.create(partition);
      this.producers.set(partition, entry);
      entry.catch(() => this.producers.delete(partition));
    }
    return entry;
  }

  /**
   * Drops a partition's producer: after a fatal transaction error (a kafkajs producer can stay
   * stuck after a broker loss mid-transaction, kafkajs#1416) or when the partition moved away.
   */
  async drop(partition: number): Promise<void> {
    const entry = this.producers.get(partition);
    this.producers.delete(partition);
    if (entry !== undefined) await entry.then((owned) => owned.producer.disconnect()).catch(() => undefined);
  }

  /** Keeps only the producers of the partitions this instance still owns. */
  async retain(partitions: ReadonlySet<number>): Promise<void> {
    await Promise.all(
      [...this.producers.keys()]
        .filter((partition) => !partitions.has(partition))
        .map((partition) => this.drop(partition)),
    );
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((partition) => this.drop(partition)));
  }
}
