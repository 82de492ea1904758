import { z } from 'zod';
import { COMPATIBILITY_LEVELS } from './compatibility.js';

/**
 * The records of the registry's own log (a single-partition, compacted Kafka topic). The registry
 * state is a pure function of this log, like every other table in kappa. Every record carries a
 * nonce in its key, so compaction never drops one: an id, once given, stays resolvable forever.
 * Fields added later are optional, so a log written by an older kappa replays unchanged.
 */
const registerRecord = z.object({
  type: z.literal('register'),
  subject: z.string(),
  version: z.number().int().positive(),
  id: z.number().int().positive(),
  /** Schema text (see canonicalSchema; records of older versions hold JSON with sorted keys). */
  schema: z.string(),
  nonce: z.string(),
});

/** Soft-deletes every live version of a subject; `permanent`: forgets its soft-deleted versions. */
const deleteSubjectRecord = z.object({
  type: z.literal('delete-subject'),
  subject: z.string(),
  permanent: z.boolean().optional(),
  nonce: z.string(),
});

/** Soft-deletes one version; `permanent`: forgets a soft-deleted one. Its id stays resolvable. */
const deleteVersionRecord = z.object({
  type: z.literal('delete-version'),
  subject: z.string(),
  version: z.number().int().positive(),
  permanent: z.boolean(),
  nonce: z.string(),
});

const configRecord = z.object({
  type: z.literal('config'),
  /** null: the global level. */
  subject: z.string().nullable(),
  /** null: no level of its own (a subject falls back to the global level, the global one to BACKWARD). */
  compatibility: z.enum(COMPATIBILITY_LEVELS).nullable(),
  /** Confluent's `normalize` flag, kept and returned; absent: not set. */
  normalize: z.boolean().optional(),
  nonce: z.string(),
});

export const logRecordSchema = z.discriminatedUnion('type', [
  registerRecord,
  deleteSubjectRecord,
  deleteVersionRecord,
  configRecord,
]);

export type LogRecord = z.infer<typeof logRecordSchema>;
export type RegisterRecord = z.infer<typeof registerRecord>;
export type ConfigRecord = z.infer<typeof configRecord>;

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
