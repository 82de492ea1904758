import avro from 'avsc';
import { RegistryError } from './registry-errors.js';

export type AvroType = avro.Type;

/** JSON values as they appear in a schema document. */
type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

function normalize(value: Json): Json {
  if (Array.isArray(value)) return value.map((item: Json) => normalize(item));
  if (value === null || typeof value !== 'object') return value;
  const object = value as { readonly [key: string]: Json };
  const keys = Object.keys(object).sort();
  // {"type": "string"} and "string" are the same schema (Avro spec, "Primitive Types").
  if (keys.length === 1 && keys[0] === 'type' && typeof object['type'] === 'string' && PRIMITIVES.has(object['type'])) {
    return object['type'];
  }
  return Object.fromEntries(keys.map((key) => [key, normalize(object[key] ?? null)]));
}

/**
 * The registry's canonical text of a schema: the JSON re-serialised without whitespace, object
 * keys sorted, primitive shorthands collapsed. Unlike Avro's Parsing Canonical Form it keeps
 * defaults, docs, aliases and logical types — two schemas that differ in a default resolve
 * differently, so they must not share an id.
 */
export function canonicalSchema(schema: string): string {
  let parsed: Json;
  try {
    parsed = JSON.parse(schema) as Json;
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: not JSON (${(error as Error).message})`);
  }
  return JSON.stringify(normalize(parsed));
}

/** Parses and validates an Avro schema (names, defaults, unions) with avsc. */
export function parseAvro(schema: string): AvroType {
  try {
    return avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { wrapUnions: 'auto' });
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: ${(error as Error).message}`);
  }
}
