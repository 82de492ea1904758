/**
 * kafkajs's record batch decoder (kafkajs/src/protocol/recordBatch/v0/decoder.js), returning the
 * same batches without a Buffer and a Decoder per record. kafkajs cuts every record out of its
 * batch (`readVarIntBytes`: a Buffer view) and wraps it in a new Decoder before the record decoder
 * reads it: ~6.5 % of a replay's CPU (bench/README.md). Here the record decoder reads each record
 * in place, from the batch's own Decoder, and the batch moves on to the record's end.
 *
 * Exactly kafkajs's results, malformed records included. The record decoder reads in place only
 * forward (record-decoder.ts `readRecord`: no negative lengths), so a record that ends within its
 * length read only its own bytes — the bytes kafkajs's cut-out record holds. A record it leaves to
 * kafkajs, that throws, or that reads past its length (where kafkajs's record would have ended) is
 * read again as kafkajs reads it — cut out and wrapped — so the same record or the same error comes
 * out. A record read short of its length ends at the record's end, as kafkajs discards the rest of
 * the cut-out record. The batch's header is read with kafkajs's own Decoder methods, field
 * by field, so its values (and its errors) are kafkajs's too. src/kafka/kafkajs.ts puts this in
 * kafkajs's place.
 */
import type { BatchContext, RecordDecoderInput } from './record-decoder.js';

/** kafkajs's Decoder, as far as a record batch uses it. */
export interface BatchDecoderInput extends RecordDecoderInput {
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  slice(size: number): BatchDecoderInput;
  forward(size: number): void;
  readAll(): Buffer;
}

/** A compression codec of kafkajs (`message/compression`). */
export interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** What the batch decoder takes from kafkajs (its Decoder, codecs and partial-batch error) and from record-decoder.ts. */
export interface BatchDecoderParts {
  readonly Decoder: new (buffer: Buffer) => BatchDecoderInput;
  readonly codecOf: (attributes: number) => Codec | null;
  readonly partialBatch: (message: string) => Error;
  /** A record as kafkajs's record decoder returns it, from a decoder of its own bytes. */
  readonly decodeRecord: (decoder: RecordDecoderInput, context: BatchContext) => unknown;
  /** The same record read in place, moving only forward; undefined where `decodeRecord` must read it. */
  readonly readRecord: (decoder: RecordDecoderInput, context: BatchContext) => unknown;
}

/** What every record of a batch is given (kafkajs's `recordContext` plus the magic byte). */
export interface RecordContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly partitionLeaderEpoch: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly maxTimestamp: string;
  readonly timestampType: number;
  readonly magicByte: number;
}

export type RecordBatch = Omit<RecordContext, 'magicByte'> & { readonly records: unknown[] };

const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
/** kafkajs's TimestampTypes. */
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;

/** kafkajs's way: the record cut out of `decoder` and wrapped in a Decoder of its own. */
function cutOut(parts: BatchDecoderParts, decoder: BatchDecoderInput, context: RecordContext): unknown {
  // A length of -1 is a null record: kafkajs wraps null and its record decoder throws on it.
  return parts.decodeRecord(new parts.Decoder(decoder.readVarIntBytes() as Buffer), context);
}

/** The next record of `decoder`, read in place when it reads within its length, kafkajs's way otherwise. */
function nextRecord(parts: BatchDecoderParts, decoder: BatchDecoderInput, context: RecordContext): unknown {
  const start = decoder.offset;
  const length = decoder.readVarInt();
  const from = decoder.offset;
  const end = from + length;
  if (length >= 0 && end <= decoder.buffer.length) {
    try {
      const record = parts.readRecord(decoder, context);
      if (record !== undefined && decoder.offset <= end) {
        decoder.offset = end;
        return record;
      }
    } catch {
      // Read again below, as kafkajs reads it: the same error, or the record its bounds give.
    }
  }
  decoder.offset = start;
  return cutOut(parts, decoder, context);
}

/** A record batch of a fetch response, as kafkajs's batch decoder returns it. */
export function recordBatchDecoder(
  parts: BatchDecoderParts,
): (fetchDecoder: BatchDecoderInput) => Promise<RecordBatch> {
  return async (fetchDecoder) => {
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    const remaining = Buffer.byteLength(decoder.buffer);
    if (remaining < length)
      throw parts.partialBatch(
        `Tried to decode a partial record batch: remainingBytes(${remaining}) < recordBatchLength(${length})`,
      );
    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // CRC: not checked, as in kafkajs
    const attributes = decoder.readInt16();
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const batch = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG) > 0,
      isControlBatch: (attributes & CONTROL_FLAG) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
    };
    const codec = parts.codecOf(attributes);
    const context: RecordContext = { ...batch, magicByte };
    return { ...batch, records: await readRecords(parts, codec, decoder, context) };
  };
}

async function readRecords(
  parts: BatchDecoderParts,
  codec: Codec | null,
  decoder: BatchDecoderInput,
  context: RecordContext,
): Promise<unknown[]> {
  const count = decoder.readInt32();
  if (codec === null) {
    if (count === -1) return [];
    return fill(new Array<unknown>(count), () => nextRecord(parts, decoder, context));
  }
  if (count <= 0) return [];
  const records = new parts.Decoder(await codec.decompress(decoder.readAll()));
  return fill(new Array<unknown>(count), () => nextRecord(parts, records, context));
}

function fill(records: unknown[], next: () => unknown): unknown[] {
  for (let index = 0; index < records.length; index += 1) records[index] = next();
  return records;
}
