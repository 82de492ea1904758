import { setTimeout as sleep } from 'node:timers/promises';
import type { Transaction } from 'kafkajs';
import type { PartitionProducers } from './partition-producers.js';
import type { TransactionPort } from './transaction-port.js';

/** How long giving a producer up may take: a stuck kafkajs producer never answers (kafkajs#1416). */
const GIVE_UP_MS = 10_000;

/** TransactionPort over kafkajs: one transactional producer per input partition (PartitionProducers). */
export class KafkaTransactionPort implements TransactionPort {
  private readonly open = new Map<number, Transaction>();

  constructor(
    private readonly producers: PartitionProducers,
    private readonly group: string,
    private readonly topic: string,
  ) {}

  private transaction(partition: number): Transaction {
    const transaction = this.open.get(partition);
    if (transaction === undefined) throw new Error(`no transaction open for ${this.topic}[${partition}]`);
    return transaction;
  }

  async acquire(partition: number): Promise<bigint | undefined> {
    const { committed } = await this.producers.get(partition);
    return committed < 0n ? undefined : committed;
  }

  async begin(partition: number): Promise<void> {
    const { producer } = await this.producers.get(partition);
    this.open.set(partition, await producer.transaction());
  }

  async send(partition: number, topic: string, messages: Parameters<TransactionPort['send']>[2]): Promise<void> {
    await this.transaction(partition).send({ topic, messages: [...messages] });
  }

  async sendOffsets(partition: number, next: bigint): Promise<void> {
    await this.transaction(partition).sendOffsets({
      consumerGroupId: this.group,
      topics: [{ topic: this.topic, partitions: [{ partition, offset: String(next) }] }],
    });
  }

  async commit(partition: number): Promise<void> {
    await this.transaction(partition).commit();
    this.open.delete(partition);
  }

  async abort(partition: number): Promise<void> {
    const transaction = this.transaction(partition);
    this.open.delete(partition);
    await Promise.race([transaction.abort(), sleep(GIVE_UP_MS)]);
  }

  async release(partition: number): Promise<void> {
    this.open.delete(partition);
    await Promise.race([this.producers.drop(partition), sleep(GIVE_UP_MS)]);
  }
}
