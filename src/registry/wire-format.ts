import type { AvroType } from './avro-schema.js';

/**
 * Confluent's wire format: magic byte 0, the schema id as a big-endian int32, the Avro binary.
 * Both registry clients read and write exactly this.
 */
/** Where records are encoded before being copied out at their exact size; grows when one does not fit. */
let scratch = Buffer.allocUnsafe(64 * 1024);

export function encodeWithSchemaId(schemaId: number, type: AvroType, value: unknown): Buffer {
  scratch.writeUInt8(0, 0);
  scratch.writeInt32BE(schemaId, 1);
  // `encode` writes in place and answers the end, or minus the bytes missing; one allocation per
  // record (pooled by Node for small sizes) instead of `toBuffer`'s plus a copy into a second one.
  let end = type.encode(value, scratch, 5);
  if (end < 0) {
    const grown = Buffer.allocUnsafe(Math.max(2 * scratch.length, scratch.length - end));
    scratch.copy(grown, 0, 0, 5);
    scratch = grown;
    end = type.encode(value, scratch, 5);
  }
  const payload = Buffer.allocUnsafe(end);
  scratch.copy(payload, 0, 0, end);
  return payload;
}

/** The schema id of a payload in the wire format; undefined when it is not in that format. */
export function schemaIdOf(payload: Buffer): number | undefined {
  return payload.length >= 5 && payload.readUInt8(0) === 0 ? payload.readInt32BE(1) : undefined;
}
