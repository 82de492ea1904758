/**
 * kafkajs's producer encodes every record (kafkajs/src/protocol/recordBatch/record/v0/index.js) with
 * a fresh `Encoder` — a zero-filled 512-byte buffer — plus another per header, and writes each varint
 * through `Buffer.from([...bytes])` and a copy. That was ~40 % of `kappa ingest`'s CPU (bench/README.md,
 * "Speed, round 3"). This writes the same bytes in one pass into one buffer of the exact size; src/kafka/kafkajs.ts
 * puts it in kafkajs's place. Inputs it does not cover (a non-numeric timestamp delta, a key that is
 * neither bytes nor text, a null header value) go to kafkajs's own encoder.
 */

type Bytes = Buffer | string | null | undefined;
type HeaderValue = Buffer | string;

/** What kafkajs's produce request passes for each message (its fields, plus the two deltas). */
export interface RecordInput {
  readonly offsetDelta?: number;
  readonly timestampDelta?: unknown;
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** What kafkajs's record batch reads from an encoded record: `buf` (checked to be a Buffer) and `buffer`. */
export interface EncodedRecord {
  readonly buf: Buffer;
  readonly buffer: Buffer;
  size(): number;
}

export type RecordEncoder = (input: RecordInput) => EncodedRecord;

class Encoded implements EncodedRecord {
  constructor(readonly buf: Buffer) {}
  get buffer(): Buffer {
    return this.buf;
  }
  size(): number {
    return this.buf.length;
  }
}

const isBytes = (value: unknown): value is Bytes =>
  value === null || value === undefined || typeof value === 'string' || Buffer.isBuffer(value);
const isHeaderValue = (value: unknown): value is HeaderValue => typeof value === 'string' || Buffer.isBuffer(value);
/** Strings up to this length are measured and written in JavaScript when they are ASCII (no native call). */
const SHORT = 64;

/** A string's UTF-8 length: counted in JavaScript when it is short and ASCII (one byte per character). */
function stringLength(value: string): number {
  if (value.length > SHORT) return Buffer.byteLength(value, 'utf8');
  for (let index = 0; index < value.length; index += 1)
    if (value.charCodeAt(index) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return value.length;
}

/** What a key, value or header is written with: its byte length, measured once; -1 for null. */
const lengthOf = (value: Bytes): number =>
  value === null || value === undefined ? -1 : typeof value === 'string' ? stringLength(value) : value.length;

/** Zig-zag of a 32-bit integer, as an unsigned 32-bit number (kafkajs: `(v << 1) ^ (v >> 31)`). */
const zigZag32 = (value: number): number => ((value << 1) ^ (value >> 31)) >>> 0;
/** Zig-zag of a 64-bit integer given as a safe integer below 2^52 in magnitude (exact in a double). */
const zigZag64 = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1);

function sizeOfUnsigned(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

const sizeOfVarInt = (value: number): number => sizeOfUnsigned(zigZag32(value));
/** Its varint length prefix (-1 for null) and its bytes. */
const sizeOfBytes = (length: number): number => sizeOfVarInt(length) + Math.max(0, length);

/** Writes an unsigned varint (up to 2^53) at `offset`; returns the offset after it. */
function writeUnsigned(buf: Buffer, offset: number, value: number): number {
  let at = offset;
  let rest = value;
  while (rest >= 0x80) {
    buf[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  buf[at++] = rest;
  return at;
}

/** Writes `value` of byte length `length` (lengthOf) with its varint prefix; returns the offset after it. */
function writeBytes(buf: Buffer, offset: number, value: Bytes, length: number): number {
  let at = writeUnsigned(buf, offset, zigZag32(length));
  if (value === null || value === undefined) return at;
  if (typeof value !== 'string') return at + value.copy(buf, at);
  // As many bytes as characters: ASCII (any other character takes two bytes or more).
  if (length !== value.length || length > SHORT) return at + buf.write(value, at, length, 'utf8');
  for (let index = 0; index < length; index += 1) buf[at++] = value.charCodeAt(index);
  return at;
}

/** Headers as kafkajs flattens them (an array value is one header per element, in order), measured. */
function flatHeaders(
  headers: Readonly<Record<string, unknown>>,
): { name: string; nameLength: number; value: HeaderValue; valueLength: number }[] | undefined {
  const flat = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (!isHeaderValue(one)) return undefined;
      flat.push({ name, nameLength: stringLength(name), value: one, valueLength: lengthOf(one) });
    }
  }
  return flat;
}

/**
 * One record, byte for byte what kafkajs's Record v0 writes:
 * Length varint, Attributes int8 (0), TimestampDelta varlong, OffsetDelta varint, Key and Value
 * (varint length, -1 for null, then bytes), Headers (varint count, then key string and value bytes).
 */
export function encodeRecord(input: RecordInput, fallback: RecordEncoder): EncodedRecord {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = input;
  if (
    typeof timestampDelta !== 'number' ||
    !Number.isSafeInteger(timestampDelta) ||
    Math.abs(timestampDelta) >= 2 ** 52 ||
    !Number.isInteger(offsetDelta) ||
    (offsetDelta | 0) !== offsetDelta ||
    !isBytes(key) ||
    !isBytes(value)
  )
    return fallback(input);
  const flat = flatHeaders(headers);
  if (flat === undefined) return fallback(input);

  const timestamp = zigZag64(timestampDelta);
  const [keyLength, valueLength] = [lengthOf(key), lengthOf(value)];
  let headersSize = sizeOfVarInt(flat.length);
  for (const header of flat) headersSize += sizeOfBytes(header.nameLength) + sizeOfBytes(header.valueLength);
  const body =
    1 +
    sizeOfUnsigned(timestamp) +
    sizeOfVarInt(offsetDelta) +
    sizeOfBytes(keyLength) +
    sizeOfBytes(valueLength) +
    headersSize;
  const buf = Buffer.allocUnsafe(sizeOfVarInt(body) + body);

  let at = writeUnsigned(buf, 0, zigZag32(body));
  buf[at++] = 0;
  at = writeUnsigned(buf, at, timestamp);
  at = writeUnsigned(buf, at, zigZag32(offsetDelta));
  at = writeBytes(buf, at, key, keyLength);
  at = writeBytes(buf, at, value, valueLength);
  at = writeUnsigned(buf, at, zigZag32(flat.length));
  for (const header of flat) {
    at = writeBytes(buf, at, header.name, header.nameLength);
    at = writeBytes(buf, at, header.value, header.valueLength);
  }
  return new Encoded(buf);
}
