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

/** The string's length if it is short and ASCII (then one byte per character), else -1. */
function shortAscii(value: string): number {
  if (value.length > SHORT) return -1;
  for (let index = 0; index < value.length; index += 1) if (value.charCodeAt(index) >= 0x80) return -1;
  return value.length;
}

const stringLength = (value: string): number => {
  const ascii = shortAscii(value);
  return ascii >= 0 ? ascii : Buffer.byteLength(value, 'utf8');
};
const byteLength = (value: Buffer | string): number => (typeof value === 'string' ? stringLength(value) : value.length);

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
const sizeOfBytes = (value: Bytes): number => {
  if (value === null || value === undefined) return sizeOfVarInt(-1);
  const length = byteLength(value);
  return sizeOfVarInt(length) + length;
};

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

function writeBytes(buf: Buffer, offset: number, value: Bytes): number {
  if (value === null || value === undefined) return writeUnsigned(buf, offset, zigZag32(-1));
  if (typeof value === 'string') {
    const ascii = shortAscii(value);
    if (ascii < 0) {
      const length = Buffer.byteLength(value, 'utf8');
      const at = writeUnsigned(buf, offset, zigZag32(length));
      return at + buf.write(value, at, length, 'utf8');
    }
    let at = writeUnsigned(buf, offset, zigZag32(ascii));
    for (let index = 0; index < ascii; index += 1) buf[at++] = value.charCodeAt(index);
    return at;
  }
  const at = writeUnsigned(buf, offset, zigZag32(value.length));
  return at + value.copy(buf, at);
}

/** Headers as kafkajs flattens them: an array value is one header per element, in order. */
function flatHeaders(headers: Readonly<Record<string, unknown>>): [string, HeaderValue][] | undefined {
  const flat: [string, HeaderValue][] = [];
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (!isHeaderValue(one)) return undefined;
      flat.push([key, one]);
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
  let headersSize = sizeOfVarInt(flat.length);
  for (const [name, headerValue] of flat) {
    const nameLength = stringLength(name);
    headersSize += sizeOfVarInt(nameLength) + nameLength + sizeOfBytes(headerValue);
  }
  const body =
    1 + sizeOfUnsigned(timestamp) + sizeOfVarInt(offsetDelta) + sizeOfBytes(key) + sizeOfBytes(value) + headersSize;
  const buf = Buffer.allocUnsafe(sizeOfVarInt(body) + body);

  let at = writeUnsigned(buf, 0, zigZag32(body));
  buf[at++] = 0;
  at = writeUnsigned(buf, at, timestamp);
  at = writeUnsigned(buf, at, zigZag32(offsetDelta));
  at = writeBytes(buf, at, key);
  at = writeBytes(buf, at, value);
  at = writeUnsigned(buf, at, zigZag32(flat.length));
  for (const [name, headerValue] of flat) {
    at = writeBytes(buf, at, name);
    at = writeBytes(buf, at, headerValue);
  }
  return new Encoded(buf);
}
