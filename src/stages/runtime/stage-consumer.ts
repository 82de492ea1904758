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
  /** The group was (re)joined: these partitions of the topic are this instance's now. */
  readonly assigned: (partitions: ReadonlySet<number>) => void;
  readonly batch: (batch: FetchedBatch, payload: EachBatchPayload) => Promise<Handled>;
  /** A fetch of transaction markers or aborted records only (kafkajs calls no eachBatch for it). */
  readonly filtered?: (partition: number, from: bigint, end: bigint) => Promise<Handled>;
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
      handlers.assigned(new Set(payload.memberAssignment[topic] ?? []));
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
        const handled = await handlers.batch(
          {
            partition: batch.partition,
            messages: batch.messages,
            from: fetchedFrom(batch) ?? (batch.firstOffset() === null ? undefined : BigInt(batch.firstOffset() ?? 0)),
            end,
            backlog: isBacklog(end, batch.highWatermark),
            isActive: () => payload.isRunning() && !payload.isStale(),
            processed: (next) => payload.resolveOffset(String(next - 1n)),
            heartbeat: () => payload.heartbeat(),
          },
          payload,
        );
        this.seekIf(batch.partition, handled);
        if (handlers.offsetHintEveryMs !== undefined)
          await payload.commitOffsetsIfNecessary().catch((error: unknown) => {
            logger.debug({ err: error, partition: batch.partition }, 'offset hint not committed');
          });
      },
    });
  }

  /** Resolves when `signal` fires; rejects when the consumer crashed for good (the stage ends with its error). */
  until(signal: AbortSignal): Promise<void> {
    return Promise.race([untilAborted(signal), this.crashed]);
  }

  /** Leaves the group, waiting for the batches in flight; never throws. */
  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}
