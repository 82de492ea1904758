import { createPool, type Pool } from 'mysql2/promise';
import type { Admin, Kafka, Message, Producer, ProducerRecord } from 'kafkajs';
import { API_WRITER } from '../ingest/id-blocks.js';
import { IdSequence } from '../ingest/id-sequence.js';
import { idsInLog } from '../ingest/ids-in-log.js';
import { lastIdsPerPartition, WRITER_HEADER } from '../ingest/topic-tail.js';
import { ConfigResourceTypes, Partitioners } from '../kafka/kafkajs.js';
import { ensurePipelineTopics } from '../kafka/ensure-topics.js';
import type { TopicSettings } from '../kafka/topics.js';
import type { Logger } from '../shared/logger.js';
import type { parseAvro } from '../registry/avro-schema.js';
import { registerEventsSchema } from '../ingest/events-schema.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { formatEventTime, parseEventTime } from '../shared/event-time.js';
import { DEFAULT_MAX_FUTURE_MS, futureTimeProblem } from '../shared/time-bounds.js';
import { KappaError } from '../shared/errors.js';
import { bodyDigest } from './idempotency-key.js';
import { IngestRequests } from './ingest-requests.js';

/** How a batch reaches the broker: the producer's send (a seam for tests that fail half-way). */
export type IngestSend = (producer: Producer, record: ProducerRecord) => Promise<unknown>;

const producerSend: IngestSend = (producer, record) => producer.send(record);

/** At most this many events per POST /api/events. */
export const MAX_BATCH = 1_000;

export type EventInput = Readonly<Record<string, unknown>>;

/** A problem with one event of a batch: the field (`events[3].hello`) and what is wrong. */
export interface InputProblem {
  readonly field: string;
  readonly message: string;
  /** The event (or batch) is larger than the broker takes: 413, not 400. */
  readonly tooLarge?: true;
}

/** The broker's default `max.message.bytes` (1 MiB + 12), when the topic's cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Bytes a record batch carries around one record beyond its value: batch header (61), record
 * framing (≤ 21), the key (an id: ≤ 16) and the writer header (~20). Rounded up.
 */
const RECORD_OVERHEAD = 128;

/** An id whose zig-zag varint is as long as any id's can be (avsc refuses ±2^53 - 1 itself). */
const LONGEST_ID = 2 ** 52;

/**
 * The first event (or, as one partition may receive the whole batch in one record batch, the
 * batch) whose encoded size would exceed the broker's `max.message.bytes` — found before any id is
 * reserved, so refusing it burns none. Encoded with the largest id, whose varint is longest.
 */
export function sizeProblem(encoded: readonly number[], maxMessageBytes: number): InputProblem | undefined {
  let total = 0;
  for (const [index, bytes] of encoded.entries()) {
    if (bytes + RECORD_OVERHEAD > maxMessageBytes)
      return {
        field: `events[${index}]`,
        message: `is ${bytes} bytes encoded; the events topic takes at most ${maxMessageBytes - RECORD_OVERHEAD} per event (max.message.bytes ${maxMessageBytes})`,
        tooLarge: true,
      };
    total += bytes + RECORD_OVERHEAD;
  }
  if (total > maxMessageBytes)
    return {
      field: 'events',
      message: `the batch is ${total} bytes encoded; the events topic takes at most ${maxMessageBytes} per request (max.message.bytes): send fewer events per request`,
      tooLarge: true,
    };
  return undefined;
}

type AvroType = ReturnType<typeof parseAvro>;

/**
 * The records of a batch as the events schema wants them, or the first problem. Pure: `now` is the
 * timestamp the records are produced with (`timestampMs`), `id` is assigned by kappa, `time`
 * defaults to now and may be at most `maxFutureMs` ahead of it (KAPPA_MAX_FUTURE: enrichment would
 * dead-letter it), and `event_ts` always follows `time` (a client cannot set it apart).
 */
export function prepareEvents(
  type: AvroType,
  fields: ReadonlySet<string>,
  inputs: readonly EventInput[],
  timeZone: string,
  now: number,
  maxFutureMs: number = DEFAULT_MAX_FUTURE_MS,
): { records: Record<string, unknown>[]; timestampMs: number } | { problem: InputProblem } {
  const records: Record<string, unknown>[] = [];
  for (const [index, input] of inputs.entries()) {
    const at = (field: string) => `events[${index}]${field === '' ? '' : `.${field}`}`;
    for (const key of Object.keys(input)) {
      if (key === 'id') return { problem: { field: at('id'), message: 'ids are assigned by kappa; leave id out' } };
      if (!fields.has(key))
        return {
          problem: {
            field: at(key),
            message: `not a field of the events schema (fields: ${[...fields].filter((name) => name !== 'id').join(', ')})`,
          },
        };
    }
    const time = input['time'];
    let eventMillis = Math.floor(now / 1_000) * 1_000;
    if (time !== undefined) {
      const parsed = typeof time === 'string' ? parseEventTime(time, timeZone) : undefined;
      if (parsed === undefined)
        return {
          problem: {
            field: at('time'),
            message: `expected "YYYY-MM-DD HH:mm:ss" in ${timeZone}: a real date and time, year 1000 to 9999`,
          },
        };
      eventMillis = parsed;
      // Checked against the timestamp the record is produced with, as enrichment will check it.
      const future = futureTimeProblem(eventMillis, now, maxFutureMs);
      if (future !== undefined) return { problem: { field: at('time'), message: future } };
    }
    const eventTs = input['event_ts'];
    if (eventTs !== undefined && eventTs !== null && eventTs !== eventMillis)
      return {
        problem: {
          field: at('event_ts'),
          message: `follows time (${eventMillis} here); leave event_ts out`,
        },
      };
    const record: Record<string, unknown> = {
      hello: 'ssm-seoul',
      ...input,
      id: 0,
      time: formatEventTime(eventMillis, timeZone),
      ...(fields.has('event_ts') ? { event_ts: eventMillis } : {}),
    };
    let bad: string | undefined;
    if (!type.isValid(record, { errorHook: (path: string[]) => (bad ??= path.join('.')) })) {
      return {
        problem: {
          field: at(bad ?? ''),
          message: `does not fit the events schema (${bad === undefined ? 'record' : `field ${bad}`})`,
        },
      };
    }
    records.push(record);
  }
  return { records, timestampMs: now };
}

/** The events topic's `max.message.bytes` as the broker reports it (its default when it cannot be read). */
async function topicMaxMessageBytes(admin: Admin, topic: string): Promise<number> {
  const described = await admin
    .describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      includeSynonyms: false,
    })
    .catch(() => undefined);
  const value = Number(described?.resources[0]?.configEntries[0]?.configValue);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
}

/**
 * `POST /api/events`: a validated batch to the events topic, with ids reserved from the same
 * sequence as the generator's (they never collide, even when both run at once) and the writer
 * header `api`. The producer is idempotent with acks=all; a failed send leaves its ids unused.
 */
export class HttpIngest {
  private floor: number | undefined;
  private partitions: number | undefined;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly sequence: IdSequence,
    private readonly topic: string,
    private readonly schemaId: number,
    private readonly type: AvroType,
    private readonly fields: ReadonlySet<string>,
    private readonly timeZone: string,
    private readonly maxFutureMs: number,
    private readonly maxMessageBytes: number,
    private readonly pool: Pool,
    private readonly requests: IngestRequests,
    private readonly sendRecord: IngestSend,
  ) {}

  static async open(options: {
    kafka: Kafka;
    registryUrl: string;
    schemasDir: string;
    mysqlUrl: string;
    topics: TopicSettings;
    timeZone: string;
    /** KAPPA_MAX_FUTURE: how far `time` may be ahead of the record's timestamp (default 1 h). */
    maxFutureMs?: number;
    logger: Logger;
    /** Tests only: how batches are sent (default: the producer's send). */
    send?: IngestSend;
  }): Promise<HttpIngest> {
    const topic = options.topics.topicEvents;
    const admin = options.kafka.admin();
    await admin.connect();
    const { clusterId, maxMessageBytes } = await ensurePipelineTopics(admin, options.topics, options.logger)
      .then(async () => ({
        clusterId: (await admin.describeCluster()).clusterId,
        maxMessageBytes: await topicMaxMessageBytes(admin, topic),
      }))
      .finally(() => admin.disconnect());
    const schema = await registerEventsSchema({
      schemasDir: options.schemasDir,
      registryUrl: options.registryUrl,
      topic,
    });
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    // IdSequence.open creates the database and runs the migrations (kappa_ingest_requests among them).
    const sequence = await IdSequence.open(options.mysqlUrl, clusterId, topic);
    const pool = createPool({ uri: options.mysqlUrl, connectionLimit: 4 });
    return new HttpIngest(
      options.kafka,
      producer,
      sequence,
      topic,
      schema.id,
      schema.type,
      schema.fields,
      options.timeZone,
      options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
      maxMessageBytes,
      pool,
      new IngestRequests(pool, `${clusterId}/${topic}`),
      options.send ?? producerSend,
    );
  }

  /** The records, or the first problem: invalid (400) or larger than the broker takes (413, `tooLarge`). */
  prepare(inputs: readonly EventInput[], now = Date.now()): ReturnType<typeof prepareEvents> {
    const prepared = prepareEvents(this.type, this.fields, inputs, this.timeZone, now, this.maxFutureMs);
    if ('problem' in prepared) return prepared;
    const sizes = prepared.records.map(
      (record) => encodeWithSchemaId(this.schemaId, this.type, { ...record, id: LONGEST_ID }).length,
    );
    const problem = sizeProblem(sizes, this.maxMessageBytes);
    return problem === undefined ? prepared : { problem };
  }

  /**
   * Reserves ids for the records and writes them with the record timestamp `timestampMs` (the one
   * `prepare` checked their times against); resolves with the ids given.
   */
  async write(
    records: readonly Record<string, unknown>[],
    timestampMs: number = Date.now(),
  ): Promise<{ first: number; last: number }> {
    const ids = await this.reserve(records.length);
    await this.send(await this.messages(records, ids.first, timestampMs));
    return ids;
  }

  /**
   * `write` under an Idempotency-Key: the first request with the key prepares (at `now`), reserves,
   * remembers (ids, body digest, each partition's end offset) and sends; a retry with the same body
   * gets the same ids, and when the first send did not finish (failed half-way, or the process
   * died) the records are rebuilt as first prepared (`now` = its time) and only the ids the log
   * lacks are sent (`written`: how many this call sent). The same key with another body:
   * KAPPA_IDEMPOTENCY_KEY_REUSED.
   */
  async writeKeyed(
    key: string,
    inputs: readonly EventInput[],
    now: number = Date.now(),
  ): Promise<{ first: number; last: number; written: number } | { problem: InputProblem }> {
    const digest = bodyDigest(inputs);
    return this.requests.withKey(key, now, async (held) => {
      const stored = await held.find();
      if (stored !== undefined && stored.digest !== digest)
        throw new KappaError(
          'KAPPA_IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was used in the last 24 h for another body; use a new key for a new request',
        );
      if (stored?.done === true) return { first: stored.first, last: stored.last, written: 0 };
      const prepared = this.prepare(inputs, stored?.createdMs ?? now);
      if ('problem' in prepared) return prepared;
      const { records, timestampMs } = prepared;
      if (stored === undefined) {
        const ids = await this.reserve(records.length);
        const offsets = await this.endOffsets();
        await held.insert({ digest, ...ids, createdMs: timestampMs, offsets });
        await this.send(await this.messages(records, ids.first, timestampMs));
        await held.markDone();
        return { ...ids, written: records.length };
      }
      const present = await idsInLog(this.kafka, this.topic, {
        from: stored.offsets,
        first: stored.first,
        last: stored.last,
        writer: 'api',
      });
      const missing = (await this.messages(records, stored.first, timestampMs)).filter(
        (message) => !present.has(Number(message.key)),
      );
      if (missing.length > 0) await this.send(missing);
      await held.markDone();
      return { first: stored.first, last: stored.last, written: missing.length };
    });
  }

  private async reserve(size: number): Promise<{ first: number; last: number }> {
    this.floor ??= Math.max(-1, ...(await lastIdsPerPartition(this.kafka, this.topic)).values()) + 1;
    const block = await this.sequence.reserve({ writer: API_WRITER, size, floor: this.floor });
    return { first: block.first, last: block.first + size - 1 };
  }

  private async messages(
    records: readonly Record<string, unknown>[],
    first: number,
    timestampMs: number,
  ): Promise<Message[]> {
    this.partitions ??= await this.partitionCount();
    const partitions = this.partitions;
    return records.map((record, index) => {
      const id = first + index;
      return {
        key: String(id),
        value: encodeWithSchemaId(this.schemaId, this.type, { ...record, id }),
        partition: id % partitions,
        timestamp: String(timestampMs),
        headers: { [WRITER_HEADER]: 'api' },
      };
    });
  }

  private async send(messages: Message[]): Promise<void> {
    await this.sendRecord(this.producer, { topic: this.topic, acks: -1, messages });
  }

  /** Each partition's end offset now: a send that follows lands at or after it. */
  private async endOffsets(): Promise<Map<number, string>> {
    const admin = this.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    return new Map(offsets.map(({ partition, high }) => [partition, high]));
  }

  private async partitionCount(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    return admin
      .fetchTopicMetadata({ topics: [this.topic] })
      .then((metadata) => metadata.topics[0]?.partitions.length ?? 1)
      .finally(() => admin.disconnect());
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.sequence.close().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
