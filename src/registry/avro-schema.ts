import avro from 'avsc';
import { avroSchemaText, type Json } from './avro-text.js';
import { RegistryError } from './registry-errors.js';

export type AvroType = avro.Type;

function parseJson(schema: string): Json {
  try {
    return JSON.parse(schema) as Json;
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: not JSON (${(error as Error).message})`);
  }
}

/**
 * The registry's text of a schema: validated, then written as Apache Avro's `Schema.toString()`
 * writes it (see avroSchemaText) — the text Confluent's registry stores and returns. Two spellings
 * of one schema (whitespace, key order, `name` qualified or with a `namespace`, `{"type":"long"}`
 * for `"long"`) get the same text; unlike Avro's Parsing Canonical Form it keeps defaults, docs,
 * aliases and logical types — two schemas that differ in a default resolve differently, so they
 * must not share an id.
 */
export function canonicalSchema(schema: string): string {
  const json = parseJson(schema);
  parseAvro(schema);
  return avroSchemaText(json);
}

/** Parses and validates an Avro schema (names, defaults, unions) with avsc. */
export function parseAvro(schema: string): AvroType {
  const json = parseJson(schema);
  try {
    return avro.Type.forSchema(json as avro.Schema, { wrapUnions: 'auto' });
  } catch (error) {
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: ${(error as Error).message}`);
  }
}
