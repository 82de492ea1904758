/**
 * A record reader schema cut down to the fields a consumer reads: Avro schema resolution skips the
 * writer's other fields (their bytes are walked, not decoded into strings and numbers), so a record
 * costs what its read fields cost.
 *
 * Only fields of a primitive type (`"string"`, `"int"`, …) are dropped. Skipping one fails exactly
 * when reading it does — a length or a varint running past the end — so a projection accepts and
 * refuses the same payloads as the whole schema, at the same offsets. A field of an enum, union,
 * fixed, array, map or record type stays: skipping an enum or union does not check the index that
 * reading it does. Which writer schemas can be read at all is still the whole reader schema's
 * answer (AvroDecoder resolves against both).
 *
 * Pure: JSON in, JSON out.
 */
import { isObject, PRIMITIVES, type Json } from './avro-text.js';

/**
 * `schema` (a record schema's JSON) keeping the fields named in `read` and every field a
 * projection may not drop (see above); any other schema is returned as it is.
 */
export function projectRecord(schema: Json, read: ReadonlySet<string>): Json {
  if (!isObject(schema) || schema['type'] !== 'record') return schema;
  const fields: Json | undefined = schema['fields'];
  if (!Array.isArray(fields)) return schema;
  return {
    ...schema,
    fields: (fields as readonly Json[]).filter((field) => {
      if (!isObject(field)) return true;
      const { name, type } = field;
      return (typeof name === 'string' && read.has(name)) || typeof type !== 'string' || !PRIMITIVES.has(type);
    }),
  };
}
