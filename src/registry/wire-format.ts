import type { AvroType } from './avro-schema.js';

/**
 * Confluent's wire format: magic byte 0, the schema id as a big-endian int32, the Avro binary.
 * Both registry clients read and write exactly this.
 */
export function encodeWithSchemaId(schemaId: number, type: AvroType, value: unknown): Buffer {
  const body = type.toBuffer(value);
  const payload = Buffer.allocUnsafe(5 + body.length);
  payload.writeUInt8(0, 0);
  payload.writeInt32BE(schemaId, 1);
  body.copy(payload, 5);
  return payload;
}

/** The schema id of a payload in the wire format; undefined when it is not in that format. */
export function schemaIdOf(payload: Buffer): number | undefined {
  return payload.length >= 5 && payload.readUInt8(0) === 0 ? payload.readInt32BE(1) : undefined;
}
