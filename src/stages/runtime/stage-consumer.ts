import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { batchEnd, fetchedFrom, isBacklog } from '../../kafka/backlog.js';
import { consumerCrashed } from '../../kafka/crash-watch.js';
import { untilAborted } from '../../shared/abort.js';
import type { Logger } from '../../shared/logger.js';

/** A fetched batch as both stages' drivers take it: where it came from, and how to take part in the loop. */
export interface FetchedBatch {
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** Where the fetch started (control records included), when kafkajs says. */
  readonly from: bigint | undefined;
  /** One past the batch's last offset (control records included); undefined for an empty batch. */
  readonly end: bigint | undefined;
  /** More than LIVE_LAG_RECORDS wait behind it: a catch-up (src/kafka/backlog.ts). */
  readonly backlog: boolean;
  /** False once kafkajs stops or a seek makes the batch stale: stop early. */
  isActive(): boolean;
  /** The records before `next` are processed: kafkajs fetches on from there (nothing is committed). */
  processed(next: bigint): void;
  heartbeat(): Promise<void>;
}

/** What a stage's batch handler answers: a seek makes the consumer fetch the partition again from `offset`. */
export type Handled = { readonly kind: 'seek'; readonly offset: bigint } | { readonly kind: string };

export interface StageConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topic: string;
  readonly logger: Logger;
  /** kafkajs settings beyond the shared ones (the aggregator's fetch sizes). */
  readonly config?: Partial<ConsumerConfig>;
}

export interface StageHandlers {
  readonly partitionsConsumedConcurrently: number;
  /** Enrichment commits offsets in its transactions; the aggregator's truth is its sink. */
  readonly autoCommit: boolean;
  /**
   * Without autoCommit: commit the resolved offsets to the group at most this often, as a hint for
   * Kafka's own tools (the group's lag), never read back. (kafkajs's autoCommit commits after every
   * batch, a round trip to the group coordinator before each next fetch.)
   */
  readonly offsetHintEveryMs?: number;
  /**
   * The group was (re)joined: these partitions of the topic are this instance's now. Pipelined, the
   * new assignment's batches wait until what this returns settles: seeks made before then drop
   * every batch fetched before them (kafkajs's `isStale`).
   */
  readonly assigned: (partitions: ReadonlySet<number>) => void | Promise<void>;
  readonly batch: (batch: FetchedBatch, payload: EachBatchPayload) => Promise<Handled>;
  /** A fetch of transaction markers or aborted records only (kafkajs calls no eachBatch for it). */
  readonly filtered?: (partition: number, from: bigint, end: bigint) => Promise<Handled>;
  /**
   * Fetch the next batch while this one is processed — only for a stage whose truth is its sink,
   * never the group's offsets (the aggregator). kafkajs sends its next fetch only once every batch
   * of the last one is handled, so a replay waits for the broker after each batch. Pipelined, each
   * batch's end is resolved and the batch handed back to kafkajs at once, and it is processed on
   * the next turn of the event loop, after the next fetch went out. A partition's next batch waits
   * for it, and its failure is thrown from there, as kafkajs would have had it from the batch
   * itself (the failed batch is fetched again, so there is a next batch).
   */
  readonly pipelined?: boolean;
}

/**
 * The consumer loop both stages run on: one group member reading one topic with read_committed,
 * a 10 s session (a killed instance's partitions move on within seconds, not kafkajs's default
 * 30), offsets resolved only by the stage, seeks where the stage's driver says, and an end when
 * the stop signal fires or the consumer crashes for good (kafkajs does not restart it).
 * Create it before the stage's set-up (so `close` in a finally always has it), `start` after.
 */
export class StageConsumer {
  private readonly consumer: Consumer;
  private readonly crashed: Promise<never>;
  /** Pipelined: each partition's batch in processing (never rejects: a failure waits in `failures`). */
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly failures = new Map<number, unknown>();
  /** Pipelined: a (re)assignment, told once the batches of the previous one have finished. */
  private assigning: Promise<void> = Promise.resolve();

  constructor(private readonly options: StageConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 250,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      ...options.config,
    });
    this.crashed = consumerCrashed(this.consumer);
    this.crashed.catch(() => undefined); // handled by `until`; marked here for a crash during set-up
  }

  /** Fetch `partition` again from `offset`. */
  seek(partition: number, offset: bigint): void {
    this.consumer.seek({ topic: this.options.topic, partition, offset: String(offset) });
  }

  private seekIf(partition: number, handled: Handled): void {
    if (handled.kind === 'seek' && 'offset' in handled) this.seek(partition, handled.offset);
  }

  async start(handlers: StageHandlers): Promise<void> {
    const { consumer } = this;
    const { topic, logger } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = new Set(payload.memberAssignment[topic] ?? []);
      if (handlers.pipelined !== true)
        void Promise.resolve(handlers.assigned(partitions)).catch((error: unknown) =>
          logger.warn({ err: error }, 'the stage’s answer to an assignment failed'),
        );
      // Batches of the previous assignment still in processing commit (or are refused) first; the
      // new assignment's batches wait for the stage to hear of it.
      else this.assigning = this.settled().then(() => handlers.assigned(partitions));
    });
    const filtered = handlers.filtered;
    if (filtered !== undefined)
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || payload.firstOffset === null || payload.topic !== topic) return;
        const { partition } = payload;
        filtered(partition, BigInt(payload.firstOffset), BigInt(payload.lastOffset) + 1n)
          .then((handled) => this.seekIf(partition, handled))
          .catch((error: unknown) => logger.warn({ err: error, partition }, 'a marker-only fetch failed'));
      });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: handlers.autoCommit,
      ...(handlers.offsetHintEveryMs === undefined ? {} : { autoCommitInterval: handlers.offsetHintEveryMs }),
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: handlers.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const end = batchEnd(batch);
        const fetched = {
          partition: batch.partition,
          messages: batch.messages,
          from: fetchedFrom(batch) ?? (batch.firstOffset() === null ? undefined : BigInt(batch.firstOffset() ?? 0)),
          end,
          backlog: isBacklog(end, batch.highWatermark),
          isActive: () => payload.isRunning() && !payload.isStale(),
          heartbeat: () => payload.heartbeat(),
        };
        if (handlers.pipelined === true) await this.handOver(fetched, payload, handlers);
        else
          this.seekIf(
            batch.partition,
            await handlers.batch(
              { ...fetched, processed: (next) => payload.resolveOffset(String(next - 1n)) },
              payload,
            ),
          );
        if (handlers.offsetHintEveryMs !== undefined)
          await payload.commitOffsetsIfNecessary().catch((error: unknown) => {
            logger.debug({ err: error, partition: batch.partition }, 'offset hint not committed');
          });
      },
    });
  }

  /** Pipelined: waits for the partition's batch ahead, then starts this one and returns before it is processed. */
  private async handOver(
    fetched: Omit<FetchedBatch, 'processed'>,
    payload: EachBatchPayload,
    handlers: StageHandlers,
  ): Promise<void> {
    const { partition } = fetched;
    await this.assigning;
    await this.inFlight.get(partition);
    if (this.failures.has(partition)) {
      const failure = this.failures.get(partition);
      this.failures.delete(partition);
      throw failure;
    }
    // Fetched before a seek the batch ahead asked for: kafkajs fetches again from there.
    if (!fetched.isActive()) return;
    // kafkajs fetches on from the batch's end as soon as this returns; the stage's own resolving
    // would only move it back.
    if (fetched.end !== undefined) payload.resolveOffset(String(fetched.end - 1n));
    const work = new Promise<void>((next) => setImmediate(next))
      .then(() => handlers.batch({ ...fetched, processed: () => undefined }, payload))
      .then(
        (handled) => this.seekIf(partition, handled),
        (error: unknown) => {
          this.failures.set(partition, error);
          if (fetched.from !== undefined && fetched.isActive()) this.seek(partition, fetched.from);
        },
      )
      .finally(() => {
        if (this.inFlight.get(partition) === work) this.inFlight.delete(partition);
      });
    this.inFlight.set(partition, work);
  }

  /** Pipelined: until no batch is in processing. */
  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values());
  }

  /** Resolves when `signal` fires; rejects when the consumer crashed for good (the stage ends with its error). */
  until(signal: AbortSignal): Promise<void> {
    return Promise.race([untilAborted(signal), this.crashed]);
  }

  /** Leaves the group, waiting for the batches in flight (pipelined ones in processing too); never throws. */
  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
    await this.settled();
  }
}
