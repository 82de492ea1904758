import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { CompressionTypes } from '../kafka/kafkajs.js';
import { ensurePipelineTopics } from '../kafka/ensure-topics.js';
import { asKafkaError } from '../kafka/kafka-errors.js';
import { isKappaError, KappaError } from '../shared/errors.js';
import { countIncident } from '../shared/incidents.js';
import type { TopicSettings } from '../kafka/topics.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import type { Logger } from '../shared/logger.js';
import { formatCount, Progress } from '../shared/progress.js';
import { retry } from '../shared/retry.js';
import { CHUNK_MAX, DiskBuffer, undelivered, type BufferedRecord, type Chunk } from './disk-buffer.js';
import { makeEvent, type GeneratorOptions } from './event-generator.js';
import { registerEventsSchema, type EventsSchema } from './events-schema.js';
import { needsLogSearch, resumePoint, type IdBlock } from './id-blocks.js';
import { IdSequence } from './id-sequence.js';
import { pace, startPacing } from './pacer.js';
import { partitionBatches } from './partition-batches.js';
import { Senders } from './senders.js';
import { generatorHeaders, lastIdsPerPartition } from './topic-tail.js';
import { claimWriterFolder } from './writer-lock.js';

export interface IngestOptions extends GeneratorOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly topics: TopicSettings;
  readonly schemasDir: string;
  /** Events per second; 0: as fast as the broker takes them. */
  readonly rate: number;
  /** Stop after this many events (undefined: until signalled). */
  readonly count?: number;
  /**
   * The topic's buffer folder: each writer takes a subfolder of its own (its writer id), guarded
   * by a lock.
   */
  readonly bufferDir: string;
  /** Where the events topic's id sequence lives (ids are reserved in blocks, shared with HTTP ingest). */
  readonly mysqlUrl: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** How long a shutdown waits for the buffer to drain before leaving the rest on disk. */
  readonly drainTimeoutMs?: number;
}

export interface IngestSummary {
  readonly firstId: number;
  /** The last id generated (ids are contiguous unless HTTP ingest reserved ids in between). */
  readonly lastId: number;
  readonly generated: number;
  readonly sent: number;
  /** Records left in the disk buffer (delivered at the next start). */
  readonly buffered: number;
  /** Time spent generating and delivering, after start-up (topics, schemas, reading the log's end). */
  readonly runSeconds: number;
}

/**
 * Ids reserved at a time. A chunk never spans two blocks, so this is a multiple of CHUNK_MAX: at
 * 10,000 with chunks of 6,000 every other chunk was cut to 4,000 (an fsync and three round trips more).
 */
const ID_BLOCK = 12_000;
/** Generated-but-unsent records beyond which generation waits (Fluentd's total_limit_size). */
const BUFFER_LIMIT = 1_000_000;
/** In unlimited-rate mode, how far generation may run ahead of delivery. */
const AHEAD_LIMIT = 4 * CHUNK_MAX;

/**
 * Sends records as one request per partition (see partition-batches.ts: a send spanning several
 * leaders can be stored twice when one of them dies), the partitions side by side (Senders),
 * waiting for every request to settle before failing: a caller that reconciles with the log after
 * a failure never races a request in flight.
 */
async function send(
  senders: Senders,
  topic: string,
  writerId: string,
  records: readonly BufferedRecord[],
): Promise<void> {
  const headers = generatorHeaders(writerId);
  const results = await Promise.allSettled(
    partitionBatches(records).map((batch) =>
      senders.of(batch[0]?.partition ?? 0).send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: batch.map((record) => ({
          key: String(record.id),
          value: record.value,
          partition: record.partition,
          headers,
        })),
      }),
    ),
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** Bounded retries of a start-up step right after topic creation, while metadata settles on the brokers. */
const STARTUP_RETRY = { attempts: 8 } as const;

/**
 * `kappa ingest`: the Fluentd dummy source with a kafka_buffered output, done right. Events get
 * ids continuing from the log (never reused, never skipped), go to a disk buffer first and to
 * `events` in id order; a crash, Ctrl-C or broker outage loses nothing and duplicates nothing.
 *
 * Several generators may write one topic at once: each takes a writer folder of its own under
 * `bufferDir` (writer-lock.ts) whose name is its stable writer id. Its id blocks, its buffer and
 * its records (header `kappa.writer-id`) are its own, so a restart finds exactly its leftovers and
 * the unused rest of its block.
 */
export async function runIngest(options: IngestOptions): Promise<IngestSummary> {
  const { kafka, logger, signal } = options;
  const topic = options.topics.topicEvents;
  const admin = kafka.admin();
  await admin.connect();
  // Partitions as they are (an existing topic keeps its count): partition = id % partitions.
  const { partitions, clusterId } = await ensurePipelineTopics(admin, options.topics, logger)
    .then(async (topics) => ({
      partitions: topics.eventsPartitions,
      clusterId: (await admin.describeCluster()).clusterId,
    }))
    .finally(() => admin.disconnect());
  const schema = await registerEventsSchema({
    schemasDir: options.schemasDir,
    registryUrl: options.registryUrl,
    topic,
  });
  const writer = await claimWriterFolder(options.bufferDir);
  const { writerId } = writer;
  const log = logger.child({ writerId });
  try {
    const buffer = await DiskBuffer.open(writer.dir);
    const sequence = await IdSequence.open(options.mysqlUrl, clusterId, topic);
    const senders = await Senders.connect(kafka, partitions);
    const sequenceRetry = {
      attempts: 30,
      signal,
      onRetry: (error: unknown, attempt: number) =>
        log.warn({ err: error, attempt }, 'the id sequence in MySQL is unavailable; retrying'),
    };
    try {
      const held = await retry(() => sequence.held(writerId), sequenceRetry);
      // 1. Whatever this writer left in its buffer goes first, minus what already reached the log.
      const leftovers = await buffer.chunks();
      let leftoverLastId: number | undefined;
      if (leftovers.length > 0) {
        // This writer's own records only: other writers' may sit after them with higher ids.
        const lastIds = await retry(() => lastIdsPerPartition(kafka, topic, 60_000, writerId), STARTUP_RETRY);
        for (const chunk of leftovers) {
          const missing = undelivered(chunk.records, lastIds);
          log.info(
            { firstId: chunk.firstId, records: chunk.records.length, missing: missing.length },
            'delivering a chunk left in the disk buffer',
          );
          await retry(() => send(senders, topic, writerId, missing), STARTUP_RETRY);
          await buffer.remove(chunk);
          leftoverLastId = chunk.records.at(-1)?.id ?? leftoverLastId;
        }
      }
      // 2. The log says where the id sequence stands at least; the sequence hands out the next
      //    block, or the unused rest of this writer's own block (contiguous ids across restarts).
      const lastIds = await retry(() => lastIdsPerPartition(kafka, topic), STARTUP_RETRY);
      const floor = Math.max(-1, ...lastIds.values()) + 1;
      let lastUsed = leftoverLastId;
      if (needsLogSearch(held, leftoverLastId)) {
        // A crash with an empty buffer: what this writer used is in the log.
        const own = await retry(() => lastIdsPerPartition(kafka, topic, 60_000, writerId), STARTUP_RETRY);
        lastUsed = own.size === 0 ? undefined : Math.max(...own.values());
      }
      const resumeFrom = resumePoint(held, lastUsed);
      const reserve = (size: number, from?: number): Promise<IdBlock> =>
        retry(
          () =>
            sequence.reserve({ writer: writerId, size, floor, ...(from === undefined ? {} : { resumeFrom: from }) }),
          sequenceRetry,
        );
      const first = await reserve(Math.min(ID_BLOCK, options.count ?? ID_BLOCK), resumeFrom);
      log.info({ firstId: first.first, block: first, partitions, schemaId: schema.id }, 'ingest starting');
      const summary = await generateAndDeliver(
        { ...options, logger: log },
        { senders, buffer, partitions, schema, first, writerId, reserve: (size) => reserve(size) },
      );
      if (summary.buffered === 0) {
        // A clean stop: the next start resumes right here without searching the log.
        const nextUnused = summary.generated > 0 ? summary.lastId + 1 : first.first;
        await sequence
          .settle(writerId, nextUnused)
          .catch((error: unknown) => log.warn({ err: error }, 'could not record where this writer stopped'));
      }
      return summary;
    } finally {
      await senders.disconnect();
      await sequence.close().catch(() => undefined);
    }
  } finally {
    await writer.release().catch((error: unknown) => log.warn({ err: error }, 'could not release the writer lock'));
  }
}

/** Resolves true when `work` finishes first, false once the (movable) deadline passes. */
function beforeDeadline(work: Promise<void>, deadline: () => number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (Date.now() > deadline()) {
        clearInterval(check);
        resolve(false);
      }
    }, 100);
    work.then(
      () => {
        clearInterval(check);
        resolve(true);
      },
      (error: unknown) => {
        clearInterval(check);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface Pipeline {
  readonly senders: Senders;
  readonly buffer: DiskBuffer;
  readonly partitions: number;
  readonly schema: EventsSchema;
  /** The first block of ids, and how to reserve the next ones. */
  readonly first: IdBlock;
  readonly writerId: string;
  readonly reserve: (size: number) => Promise<IdBlock>;
}

async function generateAndDeliver(options: IngestOptions, pipeline: Pipeline): Promise<IngestSummary> {
  const { signal, logger } = options;
  const queue: Chunk[] = [];
  let block = pipeline.first;
  let nextId = block.first;
  let lastId = nextId - 1;
  let generated = 0;
  let sent = 0;
  let generating = true;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const waitForWork = (ms: number) => Promise.race([sleep(ms), new Promise<void>((resolve) => (wake = resolve))]);

  const started = Date.now();
  const progress = new Progress(logger, 'ingest');
  const report = () => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1_000);
    progress.update(
      { generated, sent, buffered: generated - sent },
      `${formatCount(sent)} sent, ${formatCount(sent / seconds)}/s, ${formatCount(generated - sent)} buffered, next id ${nextId}`,
    );
  };
  const ticker = setInterval(report, 1_000);
  /** Set by a fatal error in either loop: the other stops too (no generating on into a dead sender). */
  let halted = false;
  const halt = (error: unknown): never => {
    halted = true;
    generating = false;
    notify();
    throw error;
  };

  const generator = (async () => {
    const limit = options.count ?? Number.POSITIVE_INFINITY;
    // A monotonic clock: a wall-clock step (NTP) would otherwise stall or burst the schedule.
    const pacingFrom = performance.now();
    let pacing = startPacing(options.rate);
    while (!signal.aborted && !halted && generated < limit) {
      const backlog = generated - sent;
      if (backlog >= (options.rate === 0 ? AHEAD_LIMIT : BUFFER_LIMIT)) {
        await waitForWork(50);
        continue;
      }
      if (nextId >= block.end) {
        block = await pipeline.reserve(Math.min(ID_BLOCK, Number.isFinite(limit) ? limit - generated : ID_BLOCK));
        nextId = block.first;
      }
      const release = pace(
        pacing,
        performance.now() - pacingFrom,
        Math.min(CHUNK_MAX, limit - generated, block.end - nextId),
      );
      pacing = release.next;
      const due = release.events;
      if (due === 0) {
        await sleep(release.waitMs);
        continue;
      }
      const now = Date.now();
      const records: BufferedRecord[] = [];
      for (let index = 0; index < due; index += 1) {
        const id = nextId + index;
        const value = encodeWithSchemaId(pipeline.schema.id, pipeline.schema.type, makeEvent(id, now, options));
        records.push({ id, partition: id % pipeline.partitions, value });
      }
      const chunk = { firstId: nextId, records };
      await pipeline.buffer.append(chunk);
      queue.push(chunk);
      nextId += due;
      lastId = nextId - 1;
      generated += due;
      notify();
    }
    generating = false;
    notify();
  })().catch(halt);

  const drainMs = options.drainTimeoutMs ?? 15_000;
  let deadline = Number.POSITIVE_INFINITY;
  /** Aborted once a shutdown's drain time is up: waiting for the broker stops there. */
  const drainOver = new AbortController();
  let drainTimer: NodeJS.Timeout | undefined;
  signal.addEventListener(
    'abort',
    () => {
      deadline = Date.now() + drainMs;
      drainTimer = setTimeout(() => drainOver.abort(), drainMs);
      notify();
    },
    { once: true },
  );

  let senders = pipeline.senders;
  /** Waits for the broker, then reconciles a chunk with the log; undefined if the drain time ran out first. */
  const recover = async (chunk: Chunk): Promise<{ pending: BufferedRecord[]; senders: Senders } | undefined> => {
    await senders.disconnect();
    const reconcile = async () => {
      const pending = undelivered(
        chunk.records,
        await lastIdsPerPartition(options.kafka, options.topics.topicEvents, 10_000, pipeline.writerId),
      );
      return { pending, senders: await Senders.connect(options.kafka, pipeline.partitions) };
    };
    try {
      const recovered = await retry(() => reconcile().catch(asKafkaError), {
        initialDelayMs: 500,
        signal: drainOver.signal,
        onRetry: (error, attempt) => {
          countIncident('retry', 'ingest-reconnect');
          logger.debug({ err: error, attempt }, 'broker still unreachable');
        },
      });
      logger.info({ firstId: chunk.firstId, resending: recovered.pending.length }, 'broker reachable again; resuming');
      return recovered;
    } catch (error) {
      if (drainOver.signal.aborted) return undefined;
      throw error;
    }
  };

  const deliverer = (async () => {
    /** The records of the head chunk still to send, after a reconciliation; all of them otherwise. */
    let pending: BufferedRecord[] | undefined;
    while ((generating || queue.length > 0) && !halted) {
      const chunk = queue[0];
      if (chunk === undefined) {
        await waitForWork(100);
        continue;
      }
      if (Date.now() > deadline) break;
      // A send that outlives the deadline is abandoned: its chunk stays on disk, and the next
      // start delivers exactly the records the log does not have yet.
      let delivered: boolean;
      try {
        delivered = await beforeDeadline(
          send(senders, options.topics.topicEvents, pipeline.writerId, pending ?? chunk.records),
          () => deadline,
        );
      } catch (error) {
        // kafkajs gives up on a broker that stays unreachable. The chunk is safe on disk: once the
        // broker answers again, fresh producers send just what the log does not have yet.
        countIncident('retry', 'ingest-send');
        logger.warn(
          { err: error, firstId: chunk.firstId, buffered: generated - sent },
          'sending failed; buffering on disk until the broker answers',
        );
        const recovered = await recover(chunk);
        if (recovered === undefined) break;
        ({ pending, senders } = recovered);
        continue;
      }
      if (!delivered) break;
      pending = undefined;
      await pipeline.buffer.remove(chunk);
      queue.shift();
      sent += chunk.records.length;
      notify();
    }
  })().catch(halt);

  try {
    // Both loops end before this returns: a fatal error in one stops the other (halt).
    const failures = (await Promise.allSettled([generator, deliverer])).filter(
      (result) => result.status === 'rejected',
    );
    const failure: unknown = failures[0]?.reason;
    if (failure !== undefined) {
      logger.error(
        { err: failure, generated, sent },
        'ingest stopped by a fatal error; the disk buffer keeps what was not sent',
      );
      throw isKappaError(failure)
        ? failure
        : new KappaError('KAPPA_GENERATOR_FAILED', `ingest stopped: ${(failure as Error).message}`, { cause: failure });
    }
  } finally {
    clearInterval(ticker);
    clearTimeout(drainTimer);
    await senders.disconnect();
  }
  report();
  progress.done();
  const buffered = generated - sent;
  if (buffered > 0)
    logger.warn({ buffered }, 'records left in the disk buffer; the next `kappa ingest` delivers them first');
  return {
    firstId: pipeline.first.first,
    lastId,
    generated,
    sent,
    buffered,
    runSeconds: (Date.now() - started) / 1_000,
  };
}
