import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility.js';
import { RegistryError } from './registry-errors.js';
import type { DeletedFilter, SchemaVersion } from './registry-state.js';

const MAX_VERSION = 2 ** 31 - 1;

/**
 * `latest` (any case), `-1` (Confluent's alias for latest) or 1 … 2^31-1, surrounding blanks
 * ignored, as Confluent's `VersionId` parses it; anything else is 42202.
 */
export function parseVersion(text: string): number | 'latest' {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'latest' || trimmed === '-1') return 'latest';
  const version = /^\+?\d{1,10}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(version >= 1 && version <= MAX_VERSION)) {
    throw new RegistryError(
      'INVALID_VERSION',
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return version;
}

export function parseLevel(value: unknown): CompatibilityLevel {
  const level = typeof value === 'string' ? value.toUpperCase() : value;
  if (!isCompatibilityLevel(level)) {
    throw new RegistryError(
      'INVALID_COMPATIBILITY_LEVEL',
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    );
  }
  return level;
}

export function parseId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(id >= 1 && id <= MAX_VERSION)) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${text} not found`);
  return id;
}

/** A boolean query parameter as JAX-RS reads one: `true` in any case is true, anything else false. */
export const flag = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

/** Confluent's pagination: skip `offset` entries, then keep `limit` (all when negative or absent). */
export function page<T>(items: readonly T[], query: { readonly offset?: string; readonly limit?: string }): T[] {
  const offset = Math.max(0, Number.parseInt(query.offset ?? '0', 10) || 0);
  const limit = Number.parseInt(query.limit ?? '-1', 10);
  return items.slice(offset, Number.isNaN(limit) || limit < 0 ? undefined : offset + limit);
}

/** `deletedOnly` wins over `deleted`, as in Confluent. */
export function deletedFilter(query: { readonly deleted?: string; readonly deletedOnly?: string }): DeletedFilter {
  if (flag(query.deletedOnly)) return 'deleted-only';
  return flag(query.deleted) ? 'with-deleted' : 'live';
}

// Java's Character.isISOControl, which Confluent's QualifiedSubject.isValidSubject rejects.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Subjects Confluent refuses to create (42208): control characters and its reserved names. */
export function validSubject(subject: string): string {
  if (CONTROL.test(subject) || subject === '__GLOBAL' || subject === '__EMPTY')
    throw new RegistryError('INVALID_SUBJECT', `The specified subject '${subject}' is not a valid.`);
  return subject;
}

export interface SchemaBody {
  readonly schema?: string;
  readonly schemaType?: string | null;
  readonly references?: readonly unknown[] | null;
  readonly metadata?: unknown;
  readonly ruleSet?: unknown;
}

/** Whether every collection in a metadata or ruleSet object is empty (or it is absent). */
function empty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== 'object') return false;
  return Object.values(value).every(
    (part) =>
      part === null ||
      (Array.isArray(part) && part.length === 0) ||
      (typeof part === 'object' && !Array.isArray(part) && Object.keys(part as object).length === 0),
  );
}

/**
 * The schema text of a request. Only Avro without references is served; `null` for schemaType
 * and references means their defaults (AVRO, none), as in Confluent. Data contracts (metadata,
 * ruleSet) are refused rather than dropped: a client that sent them would otherwise believe
 * they were kept.
 */
export function schemaOf(body: SchemaBody): string {
  const type = body.schemaType ?? 'AVRO';
  if (type.toUpperCase() !== 'AVRO')
    throw new RegistryError('INVALID_SCHEMA', `Invalid schema: schemaType ${type} is not supported (only AVRO)`);
  if ((body.references ?? []).length > 0)
    throw new RegistryError('INVALID_SCHEMA', 'Invalid schema: schema references are not supported');
  if (!empty(body.metadata) || !empty(body.ruleSet))
    throw new RegistryError(
      'INVALID_SCHEMA',
      'Invalid schema: metadata and ruleSet (data contracts) are not supported by this registry',
    );
  if (typeof body.schema !== 'string' || body.schema.trim() === '')
    throw new RegistryError('INVALID_SCHEMA', 'Invalid schema: the request has no schema');
  return body.schema;
}

/** Confluent omits schemaType for Avro, and so do we. */
export const view = (entry: SchemaVersion) => ({
  subject: entry.subject,
  id: entry.id,
  version: entry.version,
  schema: entry.schema,
});

export const schemaBody = {
  type: 'object',
  properties: {
    schema: { type: 'string' },
    schemaType: { type: ['string', 'null'] },
    references: { type: ['array', 'null'] },
  },
} as const;

export const subjectParams = {
  type: 'object',
  required: ['subject'],
  properties: { subject: { type: 'string', minLength: 1 } },
} as const;

export const versionParams = {
  type: 'object',
  required: ['subject', 'version'],
  properties: { subject: { type: 'string', minLength: 1 }, version: { type: 'string' } },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

export interface Flags {
  readonly deleted?: string;
  readonly deletedOnly?: string;
  readonly permanent?: string;
  readonly defaultToGlobal?: string;
  readonly verbose?: string;
  readonly subjectPrefix?: string;
  readonly latestOnly?: string;
  readonly offset?: string;
  readonly limit?: string;
}

export const flags = {
  type: 'object',
  properties: {
    deleted: { type: 'string' },
    deletedOnly: { type: 'string' },
    deletedAsNegative: { type: 'string' },
    permanent: { type: 'string' },
    normalize: { type: 'string' },
    defaultToGlobal: { type: 'string' },
    verbose: { type: 'string' },
    subject: { type: 'string' },
    subjectPrefix: { type: 'string' },
    latestOnly: { type: 'string' },
    format: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
  },
} as const;

export const versionView = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    id: { type: 'integer' },
    version: { type: 'integer' },
    schema: { type: 'string' },
  },
} as const;

export const integers = { type: 'array', items: { type: 'integer' } } as const;
export const strings = { type: 'array', items: { type: 'string' } } as const;
