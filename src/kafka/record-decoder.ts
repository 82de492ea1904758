/**
 * kafkajs's record decoder (kafkajs/src/protocol/recordBatch/record/v0/decoder.js), returning the
 * same objects faster. kafkajs builds each record's headers with `reduce` and an object spread per
 * header (`{ ...obj, [key]: value }`), which on Node 20 leaves V8's fast clone path: the generator's
 * two headers cost 3.7 µs a record, three times the rest of decoding it. It also adds every
 * record's deltas through 64-bit `BigInt`s, byte by byte for the timestamp's.
 *
 * Here headers are assigned into one object (the same keys, values and order; a `__proto__` header
 * stays an own property, as in kafkajs's literal), and the offset and timestamp are added as numbers
 * when the sums are exact (below 2^53), as BigInts otherwise: the same texts. A timestamp delta of
 * more than 7 varint bytes, or a batch whose first offset or timestamp is not a short decimal text
 * (or a Long of a safe value), is left to kafkajs's decoder. src/kafka/kafkajs.ts puts this in kafkajs's place.
 *
 * One field is added: `timestampMs`, the timestamp as a number (`Number(timestamp)`), which this
 * decoder has in hand before writing the text. The stages read it for every record (`timestampMsOf`),
 * where parsing the 13-digit text back cost ~45 ns a record (bench/README.md).
 */

/** kafkajs's Decoder, as far as a record uses it. */
export interface RecordDecoderInput {
  offset: number;
  readonly buffer: Buffer;
  readInt8(): number;
  readVarInt(): number;
  readVarIntString(): string | null;
  readVarIntBytes(): Buffer | null;
}

/** What kafkajs's batch decoder passes for each record of a batch (one object per batch). */
export interface BatchContext {
  readonly firstOffset?: unknown;
  readonly firstTimestamp?: unknown;
  readonly magicByte?: number;
  readonly isControlBatch?: boolean;
  readonly timestampType?: number;
  readonly maxTimestamp?: unknown;
}

export interface DecodedRecord {
  readonly magicByte: number | undefined;
  readonly attributes: number;
  readonly timestamp: unknown;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | null | (Buffer | null)[]>;
  readonly isControlRecord: boolean;
  readonly batchContext: BatchContext;
  /** Ours, not kafkajs's: `Number(timestamp)`. */
  readonly timestampMs: number;
}

/** The record's timestamp as a number, where this decoder made the record (kafkajs's own records lack it). */
export function timestampMsOf(record: { readonly timestamp: string; readonly timestampMs?: number }): number {
  return record.timestampMs ?? Number(record.timestamp);
}

export type RecordDecoder = (decoder: RecordDecoderInput, batchContext?: BatchContext) => unknown;

/** kafkajs's TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1;

/** A decimal text of at most 15 digits: exact as a number (kafkajs's batch decoder gives offsets and timestamps as text). */
const SHORT_DECIMAL = /^-?\d{1,15}$/;

/**
 * A batch's first offset or timestamp as an exact number: its text when it is short, or one of
 * kafkajs's Longs with a safe value; undefined for anything else (left to kafkajs). Every record of a
 * batch has the same text, so the last one is kept (one per field).
 */
class Base {
  private text: string | undefined;
  private number = 0;

  of(value: unknown): number | undefined {
    if (typeof value === 'string') {
      if (value === this.text) return this.number;
      if (!SHORT_DECIMAL.test(value)) return undefined;
      this.text = value;
      this.number = Number(value);
      return this.number;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const inner = (value as { value?: unknown }).value;
    if (typeof inner !== 'bigint') return undefined;
    const number = Number(inner);
    return Number.isSafeInteger(number) ? number : undefined;
  }
}

const offsets = new Base();
const timestamps = new Base();

/** `base + delta` as kafkajs's Longs write it, exactly (a number sum only when it cannot have been rounded). */
function sumText(base: number, delta: number): string {
  const sum = base + delta;
  return Number.isSafeInteger(sum) ? String(sum) : String(BigInt(base) + BigInt(delta));
}

/**
 * A zig-zag varlong of at most 7 bytes (49 bits: exact in a double) as a number; undefined, with
 * nothing read, when it is longer.
 */
function readShortVarLong(decoder: RecordDecoderInput): number | undefined {
  const { buffer } = decoder;
  let at = decoder.offset;
  let result = 0;
  let scale = 1;
  for (let bytes = 0; bytes < 7; bytes += 1) {
    const byte = buffer[at++];
    if (byte === undefined) return undefined;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = at;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    scale *= 0x80;
  }
  return undefined;
}

type HeaderValue = Buffer | null;

/** A length below -1 (null): kafkajs's decoder reads it (backwards), this one leaves the record to it. */
const ODD = Symbol('odd length');

/** kafkajs's `readVarIntBytes` for a length of at least -1; ODD, for kafkajs to read, otherwise. */
function readBytes(decoder: RecordDecoderInput): Buffer | null | typeof ODD {
  const length = decoder.readVarInt();
  if (length === -1) return null;
  if (length < 0) return ODD;
  const at = decoder.offset;
  decoder.offset = at + length;
  return decoder.buffer.subarray(at, at + length);
}

/** The headers as kafkajs's reduce builds them: a repeated key collects its values in an array, in order. */
function readHeaders(decoder: RecordDecoderInput): DecodedRecord['headers'] | typeof ODD {
  const headers: Record<string, HeaderValue | HeaderValue[]> = {};
  const count = decoder.readVarInt();
  // kafkajs makes `new Array(count)` of any count but -1 (none): it throws on another negative one.
  if (count < -1) return ODD;
  for (let index = 0; index < count; index += 1) {
    const name = readBytes(decoder);
    const value = readBytes(decoder);
    if (name === ODD || value === ODD) return ODD;
    // A null key is the property "null", as in kafkajs's computed key.
    const key = name === null ? 'null' : name.toString('utf8');
    const old: unknown = headers[key];
    const next =
      old === undefined
        ? value
        : Array.isArray(old)
          ? (old as HeaderValue[]).concat([value])
          : [old as HeaderValue, value];
    if (key === '__proto__')
      Object.defineProperty(headers, key, { value: next, writable: true, enumerable: true, configurable: true });
    else headers[key] = next;
  }
  return headers;
}

/** One record of a batch, as kafkajs's decoder returns it; `fallback` is kafkajs's own. */
export function decodeRecord(
  decoder: RecordDecoderInput,
  batchContext: BatchContext,
  fallback: RecordDecoder,
): unknown {
  const start = decoder.offset;
  const record = readRecord(decoder, batchContext);
  if (record !== undefined) return record;
  decoder.offset = start;
  return fallback(decoder, batchContext);
}

/**
 * The record at the decoder's offset, as kafkajs's decoder returns it; undefined where that decoder
 * must read it (the offset is then anywhere): a batch's first offset or timestamp that is not a
 * short text, a timestamp delta of more than 7 varint bytes, a length below -1. Every read moves the
 * offset forward, so a record read in place (batch-decoder.ts) read only its own bytes when it ends
 * within its length.
 */
export function readRecord(decoder: RecordDecoderInput, batchContext: BatchContext): DecodedRecord | undefined {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  const baseOffset = offsets.of(firstOffset);
  const baseTimestamp = timestamps.of(firstTimestamp);
  if (baseOffset === undefined || baseTimestamp === undefined) return undefined;
  const attributes = decoder.readInt8();
  const timestampDelta = readShortVarLong(decoder);
  if (timestampDelta === undefined) return undefined;
  const appendTime = timestampType === LOG_APPEND_TIME && Boolean(maxTimestamp);
  const timestamp = appendTime ? maxTimestamp : sumText(baseTimestamp, timestampDelta);
  // The exact sum rounded once, as Number(text) rounds the exact text (both are safe integers apart).
  const timestampMs = appendTime ? Number(maxTimestamp) : baseTimestamp + timestampDelta;
  const offset = sumText(baseOffset, decoder.readVarInt());
  const key = readBytes(decoder);
  const value = readBytes(decoder);
  if (key === ODD || value === ODD) return undefined;
  const headers = readHeaders(decoder);
  if (headers === ODD) return undefined;
  const record: DecodedRecord = {
    magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
    timestampMs,
  };
  return record;
}
