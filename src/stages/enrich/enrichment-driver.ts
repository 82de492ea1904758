import type { Message } from 'kafkajs';
import type { Logger } from '../../shared/logger.js';
import { IllegalTransitionError, PartitionTransaction, type TransactionState } from './partition-transaction.js';
import type { TransactionPort } from './transaction-port.js';
import { nextSliceSize, shouldCommit, type TransactionPolicy } from './transaction-policy.js';

/** Counters for /metrics: records in, enriched out, dead-lettered, skipped. */
export interface EnrichMetrics {
  in: number;
  out: number;
  dlq: number;
  skipped: number;
  /** When the first record was processed (ms since the epoch), 0 before. */
  firstRecordAt: number;
}

export function newEnrichMetrics(): EnrichMetrics {
  return { in: 0, out: 0, dlq: 0, skipped: 0, firstRecordAt: 0 };
}

export const DEFAULT_TRANSACTION_POLICY: TransactionPolicy = { maxMs: 1_000, maxRecords: 50_000 };

/** What a slice of input records becomes: records for the stages topic and dead letters. */
export interface Enriched {
  readonly stages: readonly Message[];
  readonly deadLetters: readonly Message[];
}

/** Where a batch came from in the log: `from` where the fetch started, `backlog` more records right behind it. */
export interface Fetched {
  readonly from?: bigint;
  readonly backlog?: boolean;
}

/** How the caller's batch loop takes part: stop early, hear where processing stands, keep the session. */
export interface BatchControl {
  isActive(): boolean;
  /** The records before `next` are processed (committed, or carried in an open transaction): fetch on from there. */
  processed(next: bigint): void;
  heartbeat(): Promise<void>;
}

export type BatchOutcome =
  | { readonly kind: 'done' }
  /** The fetch started beyond the committed offset (records would be skipped): fetch again from `offset`. */
  | { readonly kind: 'seek'; readonly offset: bigint }
  /** The caller stopped the batch (rebalance, shutdown) before its end, or the driver is stopping. */
  | { readonly kind: 'stopped' };

export interface EnrichmentDriverOptions<R> {
  readonly port: TransactionPort;
  readonly stagesTopic: string;
  readonly deadLetterTopic: string;
  readonly offsetOf: (record: R) => bigint;
  /** A slice of a partition's records (none below the committed offset) → what to send. May throw (`--bad-records fail`). */
  readonly enrich: (partition: number, records: readonly R[]) => Promise<Enriched>;
  readonly policy?: TransactionPolicy;
  readonly metrics?: EnrichMetrics;
  readonly clock?: () => number;
  readonly logger?: Logger;
}

const ALWAYS: BatchControl = { isActive: () => true, processed: () => undefined, heartbeat: () => Promise.resolve() };

/**
 * Enrichment without a broker: batches of a partition's records in, Kafka transactions out, through
 * a TransactionPort. Each input partition's records are sent, with the consumer offset, in
 * transactions of that partition's producer: one per batch on live data, carried from batch to
 * batch while catching up (TransactionPolicy decides when it commits). A rebalance, a stop, a batch
 * that does not continue a carried transaction, or any failure abandons the open transaction; its
 * records are redone from the committed offset. PartitionTransaction holds the states.
 */
export class EnrichmentDriver<R> {
  private readonly transactions = new Map<number, PartitionTransaction>();
  /** Serialises the work on one partition (batches, rebalance, stop). */
  private readonly locks = new Map<number, Promise<unknown>>();
  private lifecycle: 'running' | 'stopping' | 'stopped' = 'running';
  /** The consumer group generation: a transaction carried across a rebalance is never continued. */
  private generation = 0;
  readonly metrics: EnrichMetrics;
  private readonly policy: TransactionPolicy;
  private readonly clock: () => number;

  constructor(private readonly options: EnrichmentDriverOptions<R>) {
    this.metrics = options.metrics ?? newEnrichMetrics();
    this.policy = options.policy ?? DEFAULT_TRANSACTION_POLICY;
    this.clock = options.clock ?? Date.now;
  }

  /** A partition's state (closed when this instance never held it). */
  stateOf(partition: number): TransactionState {
    return this.transactions.get(partition)?.state ?? 'closed';
  }

  /** One fetched batch of a partition, offsets ascending. */
  batch(
    partition: number,
    records: readonly R[],
    fetched: Fetched = {},
    control: BatchControl = ALWAYS,
  ): Promise<BatchOutcome> {
    if (this.lifecycle !== 'running') return this.refuse('batch');
    return this.exclusive(partition, () =>
      this.lifecycle === 'running' ? this.run(partition, records, fetched, control) : { kind: 'stopped' as const },
    );
  }

  /**
   * The group was rebalanced: the consumer fetches again from the committed offsets, so carried
   * transactions are given up, and the producers of partitions no longer assigned are released.
   */
  rebalance(assigned: ReadonlySet<number>): Promise<void> {
    if (this.lifecycle !== 'running') return this.refuse('rebalance');
    this.generation += 1;
    return this.eachPartition(async (transaction) => {
      if (transaction.state === 'carried') await transaction.abandon();
      if (!assigned.has(transaction.partition) && transaction.state === 'ready') await transaction.release();
    });
  }

  /**
   * Aborts every open transaction — it would hold read_committed readers of the stages topic until
   * it times out — and releases every producer. Call it once the consumer stopped delivering batches.
   */
  async stop(): Promise<void> {
    if (this.lifecycle !== 'running') return;
    this.lifecycle = 'stopping';
    await this.eachPartition(async (transaction) => {
      if (transaction.state === 'carried' || transaction.state === 'transacting') await transaction.abandon();
      if (transaction.state === 'ready') await transaction.release();
    });
    this.lifecycle = 'stopped';
  }

  /** Work asked of a driver that is stopping or stopped: a bug in the caller. */
  private refuse(call: string): Promise<never> {
    return Promise.reject(new IllegalTransitionError(undefined, this.lifecycle, call));
  }

  private eachPartition(work: (transaction: PartitionTransaction) => Promise<void>): Promise<void> {
    return Promise.all(
      [...this.transactions.values()].map((transaction) =>
        this.exclusive(transaction.partition, () => work(transaction)),
      ),
    ).then(() => undefined);
  }

  private exclusive<T>(partition: number, work: () => Promise<T> | T): Promise<T> {
    const result = (this.locks.get(partition) ?? Promise.resolve()).then(work);
    this.locks.set(
      partition,
      result.catch(() => undefined),
    );
    return result;
  }

  private async run(
    partition: number,
    records: readonly R[],
    fetched: Fetched,
    control: BatchControl,
  ): Promise<BatchOutcome> {
    // An empty batch (kafkajs filtered it whole) says nothing about where the consumer stands.
    if (records.length === 0) return { kind: 'done' };
    let transaction = this.transactions.get(partition);
    if (transaction === undefined) {
      transaction = new PartitionTransaction(partition, this.options.port);
      this.transactions.set(partition, transaction);
    }
    const head = records[0];
    const from = fetched.from ?? (head === undefined ? undefined : this.options.offsetOf(head));
    if (transaction.state === 'carried') {
      const carried = transaction.carriedTo;
      if (carried !== undefined && from === carried.next && carried.generation === this.generation)
        transaction.resume();
      // Not the continuation (a re-delivery, a seek, a rebalance): give it up, its records are redone.
      else await transaction.abandon();
    }
    if (transaction.state === 'closed') await transaction.acquire();
    if (transaction.state === 'ready' && from !== undefined) {
      // kafkajs fetches on from where the last batch was processed, not from the committed offset:
      // after a failure that abandoned a carried transaction, that is beyond it. Seek back, once
      // per producer (nothing committed: to 0): a fetch beyond it right after the seek means the
      // log starts later (retention), which no seek can change.
      const committed = transaction.floor ?? 0n;
      if (from > committed && transaction.soughtTo !== committed) {
        transaction.soughtTo = committed;
        this.options.logger?.info(
          { partition, from, offset: committed },
          'fetched beyond the committed offset: seeking back',
        );
        return { kind: 'seek', offset: committed };
      }
      if (from <= committed) transaction.soughtTo = undefined;
    }
    try {
      return await this.process(transaction, records, fetched.backlog === true, control);
    } catch (error) {
      if (transaction.state !== 'ready' && transaction.state !== 'closed') await transaction.abandon();
      this.options.logger?.warn({ err: error, partition }, 'transaction failed; resuming from the committed offset');
      throw error;
    }
  }

  private async process(
    transaction: PartitionTransaction,
    records: readonly R[],
    backlog: boolean,
    control: BatchControl,
  ): Promise<BatchOutcome> {
    const { offsetOf } = this.options;
    const { partition, floor } = transaction;
    // Below the floor: already committed (by an earlier owner, or by this one before kafkajs delivered them again).
    let start = 0;
    if (floor !== undefined) while (start < records.length && offsetOf(records[start] as R) < floor) start += 1;
    if (start > 0 && transaction.state === 'ready') control.processed(offsetOf(records[start - 1] as R) + 1n);
    let interrupted = false;
    // The last slice's sends, in flight while the next slice is enriched: one request at a time
    // per producer, as the idempotent producer needs, with the enrichment's CPU beside its round trip.
    let sending: Promise<void> | undefined;
    const sent = async (): Promise<void> => {
      const last = sending;
      sending = undefined;
      await last;
    };
    try {
      while (start < records.length) {
        if (!control.isActive()) {
          interrupted = true;
          break;
        }
        const slice = records.slice(start, start + nextSliceSize(this.policy, transaction.open));
        start += slice.length;
        const next = offsetOf(slice.at(-1) as R) + 1n;
        const { stages, deadLetters } = await this.options.enrich(partition, slice);
        await sent();
        if (transaction.state === 'ready') await transaction.begin(this.clock());
        transaction.count(slice.length, stages.length, deadLetters.length);
        sending = this.send(transaction, stages, deadLetters);
        // Handled here, awaited later: a failed send is thrown by the next sent().
        sending.catch(() => undefined);
        const open = transaction.open;
        if (open !== undefined && shouldCommit(this.policy, open, this.clock(), start >= records.length && !backlog)) {
          await sent();
          const committed = await transaction.commit(next);
          this.metrics.out += committed.stages;
          this.metrics.dlq += committed.deadLetters;
          control.processed(next);
        }
        await control.heartbeat();
      }
      await sent();
    } catch (error) {
      // Whatever failed, the send in flight settles before the transaction is given up.
      await sending?.catch(() => undefined);
      throw error;
    }
    if (transaction.state !== 'transacting') return { kind: interrupted ? 'stopped' : 'done' };
    const last = records.at(-1);
    if (!interrupted && backlog && last !== undefined && control.isActive()) {
      // The whole batch is in the open transaction: fetch on, and continue it with the next batch.
      const next = offsetOf(last) + 1n;
      transaction.carry(next, this.generation);
      control.processed(next);
      return { kind: 'done' };
    }
    // Given up mid-transaction: its records were not committed, the partition's next owner redoes them.
    await transaction.abandon();
    return { kind: 'stopped' };
  }

  /** A slice's records into the open transaction: the stages topic's, then the dead letters. */
  private async send(
    transaction: PartitionTransaction,
    stages: readonly Message[],
    deadLetters: readonly Message[],
  ): Promise<void> {
    if (stages.length > 0) await transaction.send(this.options.stagesTopic, stages);
    if (deadLetters.length > 0) await transaction.send(this.options.deadLetterTopic, deadLetters);
  }
}
