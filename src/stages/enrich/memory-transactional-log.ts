import type { Message } from 'kafkajs';
import type { TransactionPort } from './transaction-port.js';

/** A port call, where a test can inject a failure. */
export type PortCall = 'acquire' | 'begin' | 'send' | 'sendOffsets' | 'commit' | 'abort';

/** `before`: the call fails and changes nothing; `after`: it takes effect, then its answer is lost. */
export type Fault = 'before' | 'after';

export interface LoggedRecord {
  readonly topic: string;
  /** The input partition whose producer wrote it. */
  readonly partition: number;
  readonly message: Message;
  readonly transaction: number;
}

interface OpenTransaction {
  readonly id: number;
  offsets?: bigint;
}

/**
 * A transactional topic and a consumer group's committed offsets, in memory, with Kafka's
 * contract: records become visible to read_committed readers only when their transaction
 * commits, never when it aborts; offsets sent in a transaction are committed with it, atomically.
 * Each transactional id (one per input partition) has an epoch: acquiring it fences the earlier
 * producer (its calls fail from then on) and aborts that producer's open transaction. A call the
 * protocol forbids (send without a transaction, begin twice) is recorded in `violations`.
 */
export class MemoryTransactionalLog {
  readonly records: LoggedRecord[] = [];
  readonly committedOffsets = new Map<number, bigint>();
  readonly violations: string[] = [];
  /** Decides, per call, whether it fails (the driver's tests inject failures here). */
  fault: (call: PortCall, partition: number) => Fault | undefined = () => undefined;
  private readonly outcome = new Map<number, 'open' | 'committed' | 'aborted'>();
  private readonly epochs = new Map<number, number>();
  private readonly open = new Map<number, OpenTransaction>();
  private transactions = 0;

  /** What a read_committed consumer of `topic` sees, in log order. */
  readCommitted(topic: string): LoggedRecord[] {
    return this.records.filter(
      (record) => record.topic === topic && this.outcome.get(record.transaction) === 'committed',
    );
  }

  private violation(text: string): Error {
    this.violations.push(text);
    return new Error(`protocol violation: ${text}`);
  }

  /** Runs one call: `before` fails it untouched, `after` applies it and then fails. */
  private call<T>(call: PortCall, partition: number, apply: () => T): T {
    const fault = this.fault(call, partition);
    if (fault === 'before') throw new Error(`injected failure before ${call}[${partition}]`);
    const result = apply();
    if (fault === 'after') throw new Error(`injected failure after ${call}[${partition}]`);
    return result;
  }

  private end(partition: number, outcome: 'committed' | 'aborted'): void {
    const open = this.open.get(partition);
    if (open === undefined) return;
    this.open.delete(partition);
    this.outcome.set(open.id, outcome);
    if (outcome === 'committed' && open.offsets !== undefined) this.committedOffsets.set(partition, open.offsets);
  }

  /** The producers of one process: a new port per (re)started instance. */
  port(): TransactionPort {
    const mine = new Map<number, number>();
    const current = (call: string, partition: number): OpenTransaction | undefined => {
      const epoch = mine.get(partition);
      if (epoch === undefined) throw this.violation(`${call}[${partition}] without acquire`);
      if (epoch !== this.epochs.get(partition)) throw new Error(`fenced: partition ${partition} has a newer producer`);
      return this.open.get(partition);
    };
    const transaction = (call: string, partition: number): OpenTransaction => {
      const open = current(call, partition);
      if (open === undefined) throw this.violation(`${call}[${partition}] without a transaction`);
      return open;
    };
    return {
      acquire: (partition) =>
        Promise.resolve().then(() =>
          this.call('acquire', partition, () => {
            const epoch = (this.epochs.get(partition) ?? 0) + 1;
            this.epochs.set(partition, epoch);
            this.end(partition, 'aborted');
            mine.set(partition, epoch);
            return this.committedOffsets.get(partition);
          }),
        ),
      begin: (partition) =>
        Promise.resolve().then(() =>
          this.call('begin', partition, () => {
            if (current('begin', partition) !== undefined) throw this.violation(`begin[${partition}] twice`);
            const id = this.transactions++;
            this.outcome.set(id, 'open');
            this.open.set(partition, { id });
          }),
        ),
      send: (partition, topic, messages) =>
        Promise.resolve().then(() =>
          this.call('send', partition, () => {
            const { id } = transaction('send', partition);
            for (const message of messages) this.records.push({ topic, partition, message, transaction: id });
          }),
        ),
      sendOffsets: (partition, next) =>
        Promise.resolve().then(() =>
          this.call('sendOffsets', partition, () => {
            transaction('sendOffsets', partition).offsets = next;
          }),
        ),
      commit: (partition) =>
        Promise.resolve().then(() =>
          this.call('commit', partition, () => {
            transaction('commit', partition);
            this.end(partition, 'committed');
          }),
        ),
      // Like kafkajs, aborting with no transaction open is an error (the driver aborts best-effort).
      abort: (partition) =>
        Promise.resolve().then(() =>
          this.call('abort', partition, () => {
            if (current('abort', partition) === undefined) throw new Error(`abort[${partition}]: no transaction`);
            this.end(partition, 'aborted');
          }),
        ),
      // A disconnected producer's open transaction stays open until the next owner fences it.
      release: (partition) => {
        mine.delete(partition);
        return Promise.resolve();
      },
    };
  }
}
