import { z } from 'zod';
import { COMPATIBILITY_LEVELS } from './compatibility.js';

/**
 * The records of the registry's own log (a single-partition, compacted Kafka topic). The registry
 * state is a pure function of this log, like every other table in kappa. Every record carries a
 * nonce in its key, so compaction never drops one: an id, once given, stays resolvable forever.
 */
const registerRecord = z.object({
  type: z.literal('register'),
  subject: z.string(),
  version: z.number().int().positive(),
  id: z.number().int().positive(),
  /** Canonical schema text (see canonicalSchema). */
  schema: z.string(),
  nonce: z.string(),
});

const deleteSubjectRecord = z.object({
  type: z.literal('delete-subject'),
  subject: z.string(),
  nonce: z.string(),
});

const configRecord = z.object({
  type: z.literal('config'),
  /** null: the global level. */
  subject: z.string().nullable(),
  /** null: remove the setting (the subject falls back to the global level). */
  compatibility: z.enum(COMPATIBILITY_LEVELS).nullable(),
  nonce: z.string(),
});

export const logRecordSchema = z.discriminatedUnion('type', [registerRecord, deleteSubjectRecord, configRecord]);

export type LogRecord = z.infer<typeof logRecordSchema>;
export type RegisterRecord = z.infer<typeof registerRecord>;

/** Decodes one log value; undefined for anything that is not a record of ours (skipped, not fatal). */
export function decodeLogRecord(value: Buffer | string | null): LogRecord | undefined {
  if (value === null) return undefined;
  try {
    const parsed = logRecordSchema.safeParse(JSON.parse(value.toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function logRecordKey(record: LogRecord): string {
  return JSON.stringify({ type: record.type, subject: record.subject, nonce: record.nonce });
}
