import { DEFAULT_COMPATIBILITY, type CompatibilityLevel } from './compatibility.js';
import type { LogRecord, RegisterRecord } from './log-records.js';
import { RegistryError } from './registry-errors.js';

export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
  readonly deleted: boolean;
}

/**
 * The registry's tables, derived by applying its log in order. Deterministic: every instance that
 * applies the same log holds the same state, which is how several registry instances agree on ids
 * without electing a leader. A `register` record is accepted only if it takes exactly the next
 * version of its subject and the id the state dictates (the schema's existing id, or the next
 * free one); a record that lost a race between instances is rejected here, everywhere alike, and
 * its writer retries.
 */
export class RegistryState {
  private readonly subjects = new Map<string, SchemaVersion[]>();
  private readonly schemasById = new Map<number, string>();
  private readonly idsBySchema = new Map<string, number>();
  private readonly configs = new Map<string | null, CompatibilityLevel>();
  private readonly accepted = new Set<string>();
  private maxId = 0;

  /** Applies one record; returns whether it took effect. */
  apply(record: LogRecord): boolean {
    switch (record.type) {
      case 'register':
        return this.register(record);
      case 'delete-subject':
        this.subjects.set(
          record.subject,
          (this.subjects.get(record.subject) ?? []).map((version) => ({ ...version, deleted: true })),
        );
        return true;
      case 'config':
        if (record.compatibility === null) this.configs.delete(record.subject);
        else this.configs.set(record.subject, record.compatibility);
        return true;
    }
  }

  private register(record: RegisterRecord): boolean {
    if (record.version !== this.nextVersion(record.subject) || record.id !== this.idFor(record.schema)) return false;
    const versions = this.subjects.get(record.subject) ?? [];
    versions.push({
      subject: record.subject,
      version: record.version,
      id: record.id,
      schema: record.schema,
      deleted: false,
    });
    this.subjects.set(record.subject, versions);
    this.schemasById.set(record.id, record.schema);
    this.idsBySchema.set(record.schema, record.id);
    this.maxId = Math.max(this.maxId, record.id);
    this.accepted.add(record.nonce);
    return true;
  }

  /** Whether the register record with this nonce was accepted. */
  wasAccepted(nonce: string): boolean {
    return this.accepted.has(nonce);
  }

  /** Versions keep counting after a soft delete: a version number is never reused. */
  nextVersion(subject: string): number {
    return (this.subjects.get(subject)?.at(-1)?.version ?? 0) + 1;
  }

  /** The id a canonical schema has, or would get: the same schema has the same id in every subject. */
  idFor(schema: string): number {
    return this.idsBySchema.get(schema) ?? this.maxId + 1;
  }

  subjectNames(includeDeleted = false): string[] {
    return [...this.subjects.entries()]
      .filter(([, versions]) => includeDeleted || versions.some((version) => !version.deleted))
      .map(([name]) => name)
      .sort();
  }

  /** Live versions of a subject (with `deleted`, soft-deleted ones too), oldest first; 40401 when it has none. */
  liveVersions(subject: string, deleted = false): SchemaVersion[] {
    const live = deleted ? (this.subjects.get(subject) ?? []) : this.liveVersionsOrNone(subject);
    if (live.length === 0) throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
    return live;
  }

  /** Live versions, or none when the subject does not exist (for compatibility checks). */
  liveVersionsOrNone(subject: string): SchemaVersion[] {
    return (this.subjects.get(subject) ?? []).filter((version) => !version.deleted);
  }

  version(subject: string, version: number | 'latest', deleted = false): SchemaVersion {
    const live = this.liveVersions(subject, deleted);
    const found = version === 'latest' ? live.at(-1) : live.find((entry) => entry.version === version);
    if (found === undefined) throw new RegistryError('VERSION_NOT_FOUND', `Version ${version} not found.`);
    return found;
  }

  /** The live (with `deleted`: any) version of `subject` holding this canonical schema, the newest first. */
  lookup(subject: string, schema: string, deleted = false): SchemaVersion {
    const found = this.liveVersions(subject, deleted).findLast((version) => version.schema === schema);
    if (found === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
    return found;
  }

  /** A schema by id — soft-deleted ones included: every message ever written stays decodable. */
  schemaById(id: number): string {
    const schema = this.schemasById.get(id);
    if (schema === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
    return schema;
  }

  /** Subjects and versions in which a schema id appears. */
  usages(id: number): { subject: string; version: number }[] {
    return [...this.subjects.values()]
      .flat()
      .filter((entry) => entry.id === id && !entry.deleted)
      .map(({ subject, version }) => ({ subject, version }));
  }

  /** The level set on a subject, if any. */
  subjectConfig(subject: string): CompatibilityLevel | undefined {
    return this.configs.get(subject);
  }

  globalConfig(): CompatibilityLevel {
    return this.configs.get(null) ?? DEFAULT_COMPATIBILITY;
  }

  /** The level that applies to a subject: its own, else the global one. */
  effectiveConfig(subject: string): CompatibilityLevel {
    return this.configs.get(subject) ?? this.globalConfig();
  }
}
