/**
 * kafkajs's Produce request, version 3 (kafkajs/src/protocol/requests/produce/v3/request.js; versions
 * 4 to 7 are it under another number), writing the same bytes without its per-record object spread.
 *
 * kafkajs hands each message to the record encoder as `{ ...message, offsetDelta, timestampDelta }`.
 * On Node 20 a spread followed by two new properties leaves V8's fast clone path: ~1.9 µs a record,
 * ~30 % of encoding a request and ~10-14 % of the generator's and the enrichment's CPU
 * (bench/README.md, "Speed, round 3, fifth pass"). It also sorted the batch's timestamps to take the
 * first and the last. Here the encoder gets the five fields it reads in an object of one shape, and
 * one pass finds the same first and last timestamps that sort did: `Array.prototype.sort` without
 * a comparator orders by `String(value)`, stably. Everything else is kafkajs's own code (its
 * Encoder and RecordBatch), and src/kafka/kafkajs.ts puts this in kafkajs's place.
 */
import { createRequire } from 'node:module';
import type { EncodedRecord, RecordInput } from './record-encoder.js';

const require = createRequire(import.meta.url);

/** kafkajs's Encoder, as far as this module uses it. */
export interface Encoder {
  writeString(value: string | null): Encoder;
  writeInt16(value: number): Encoder;
  writeInt32(value: number): Encoder;
  writeArray(values: readonly Encoder[]): Encoder;
  writeEncoder(value: Encoder): Encoder;
  size(): number;
  readonly buffer: Buffer;
}

interface RecordBatchInput {
  readonly compression: number;
  readonly records: readonly EncodedRecord[];
  readonly firstTimestamp: unknown;
  readonly maxTimestamp: unknown;
  readonly producerId: unknown;
  readonly producerEpoch: number;
  readonly firstSequence: number | undefined;
  readonly transactional: boolean;
  readonly lastOffsetDelta: number;
}

const EncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (input: RecordBatchInput) => Promise<Encoder>;
};
const Long = require('kafkajs/src/utils/long.js') as { fromInt(value: number): unknown };
const { Produce: API_KEY } = require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number };
const NO_COMPRESSION = 0;

/** A message as kafkajs's producer passes it on (its fields beyond these are never encoded). */
export interface ProduceMessage {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly timestamp?: unknown;
}

interface PartitionData {
  readonly partition: number;
  readonly firstSequence?: number;
  readonly messages: readonly ProduceMessage[];
}

interface TopicData {
  readonly topic: string;
  readonly partitions: readonly PartitionData[];
}

export interface ProduceRequestInput {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: unknown;
  readonly producerEpoch?: number;
  readonly compression?: number;
  readonly topicData: readonly TopicData[];
}

export interface ProduceRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly apiName: string;
  expectResponse(): boolean;
  encode(): Promise<Encoder>;
}

/** Orders as `Array.prototype.sort()` does without a comparator: by the text of each value. */
const sortsBefore = (a: unknown, b: unknown): boolean => String(a) < String(b);

/**
 * The first and the last of the batch's timestamps in sort()'s order (the clock when none has one):
 * among equal texts the first one seen comes first and the last one seen last, as a stable sort leaves them.
 */
export function timestampBounds(messages: readonly ProduceMessage[], now: number): { first: unknown; last: unknown } {
  let first: unknown;
  let last: unknown;
  let any = false;
  for (const message of messages) {
    const timestamp = message.timestamp;
    if (timestamp === null || timestamp === undefined) continue;
    if (!any) {
      first = timestamp;
      last = timestamp;
      any = true;
      continue;
    }
    if (sortsBefore(timestamp, first)) first = timestamp;
    if (!sortsBefore(timestamp, last)) last = timestamp;
  }
  return any ? { first, last } : { first: now, last: now };
}

/** `a - b` as kafkajs writes it for a timestamp delta (texts and numbers alike). */
const minus = (a: unknown, b: unknown): number => (a as number) - (b as number);

async function encodePartition(
  { partition, messages, firstSequence }: PartitionData,
  encodeRecord: (input: RecordInput) => EncodedRecord,
  compression: number,
  transactionalId: string | null,
  producerId: unknown,
  producerEpoch: number,
): Promise<Encoder> {
  const now = Date.now();
  const { first, last } = timestampBounds(messages, now);
  const records: EncodedRecord[] = new Array<EncodedRecord>(messages.length);
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index] as ProduceMessage;
    records[index] = encodeRecord({
      offsetDelta: index,
      timestampDelta: minus(message.timestamp || now, first),
      key: message.key,
      value: message.value,
      headers: message.headers,
    });
  }
  const recordBatch = await RecordBatch({
    compression,
    records,
    firstTimestamp: first,
    maxTimestamp: last,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  });
  return new EncoderClass().writeInt32(partition).writeInt32(recordBatch.size()).writeEncoder(recordBatch);
}

/** kafkajs's `produce/v3/request.js`, with `encodeRecord` in place of its Record v0 module. */
export function produceRequestV3(
  encodeRecord: (input: RecordInput) => EncodedRecord,
): (input: ProduceRequestInput) => ProduceRequest {
  return ({
    acks,
    timeout,
    transactionalId = null,
    producerId = Long.fromInt(-1),
    producerEpoch = 0,
    compression = NO_COMPRESSION,
    topicData,
  }) => ({
    apiKey: API_KEY,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const topics: Encoder[] = [];
      for (const { topic, partitions } of topicData) {
        const encoded: Encoder[] = [];
        for (const data of partitions)
          encoded.push(
            await encodePartition(data, encodeRecord, compression, transactionalId, producerId, producerEpoch),
          );
        topics.push(new EncoderClass().writeString(topic).writeArray(encoded));
      }
      return new EncoderClass().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(topics);
    },
  });
}
