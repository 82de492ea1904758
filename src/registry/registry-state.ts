import { canonicalSchema } from './avro-schema.js';
import { DEFAULT_COMPATIBILITY, type CompatibilityLevel } from './compatibility.js';
import type { ConfigRecord, LogRecord, RegisterRecord } from './log-records.js';
import { RegistryError } from './registry-errors.js';

export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
  readonly deleted: boolean;
}

/** A subject's (or the global) configuration: Confluent's `compatibilityLevel` and `normalize`. */
export interface SubjectConfig {
  readonly compatibilityLevel?: CompatibilityLevel;
  readonly normalize?: boolean;
}

/** Which versions a listing shows: live ones (default), live and soft-deleted, or soft-deleted only. */
export type DeletedFilter = 'live' | 'with-deleted' | 'deleted-only';

const shown = (filter: DeletedFilter) => (version: SchemaVersion) =>
  filter === 'with-deleted' || version.deleted === (filter === 'deleted-only');

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
  /** The highest version a subject ever had: version numbers are never reused, not even after a permanent delete. */
  private readonly lastVersions = new Map<string, number>();
  private readonly schemasById = new Map<number, string>();
  private readonly idsBySchema = new Map<string, number>();
  /** Equivalence key (the text canonicalSchema writes today) → the first stored text with it. */
  private readonly textsByKey = new Map<string, string>();
  private readonly keysByText = new Map<string, string>();
  private readonly configs = new Map<string | null, SubjectConfig>();
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
          (this.subjects.get(record.subject) ?? [])
            .filter((version) => !(record.permanent === true && version.deleted))
            .map((version) => ({ ...version, deleted: true })),
        );
        return true;
      case 'delete-version':
        this.subjects.set(
          record.subject,
          (this.subjects.get(record.subject) ?? [])
            .filter((version) => !(record.permanent && version.version === record.version && version.deleted))
            .map((version) => (version.version === record.version ? { ...version, deleted: true } : version)),
        );
        return true;
      case 'config':
        this.setConfig(record);
        return true;
    }
  }

  private setConfig(record: ConfigRecord): void {
    const config: SubjectConfig = {
      ...(record.compatibility === null ? {} : { compatibilityLevel: record.compatibility }),
      ...(record.normalize === undefined ? {} : { normalize: record.normalize }),
    };
    if (Object.keys(config).length === 0) this.configs.delete(record.subject);
    else this.configs.set(record.subject, config);
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
    this.lastVersions.set(record.subject, record.version);
    this.schemasById.set(record.id, record.schema);
    this.idsBySchema.set(record.schema, record.id);
    const key = this.keyOf(record.schema);
    if (!this.textsByKey.has(key)) this.textsByKey.set(key, record.schema);
    this.maxId = Math.max(this.maxId, record.id);
    this.accepted.add(record.nonce);
    return true;
  }

  /**
   * The equivalence key of a stored text. Texts written by older versions (JSON with sorted keys)
   * are re-written the current way, so a schema registered before an upgrade is still found.
   */
  private keyOf(text: string): string {
    let key = this.keysByText.get(text);
    if (key === undefined) {
      try {
        key = canonicalSchema(text);
      } catch {
        key = text;
      }
      this.keysByText.set(text, key);
    }
    return key;
  }

  /** Whether a version holds this canonical schema (in whatever text it was stored). */
  sameSchema(version: SchemaVersion, schema: string): boolean {
    return this.keyOf(version.schema) === schema;
  }

  /**
   * The text to register for a canonical schema: the text an equivalent schema was first stored
   * with, if any (so it keeps its id), else the schema itself.
   */
  storedTextFor(schema: string): string {
    return this.textsByKey.get(schema) ?? schema;
  }

  /** Whether the register record with this nonce was accepted. */
  wasAccepted(nonce: string): boolean {
    return this.accepted.has(nonce);
  }

  /** Versions keep counting after a delete: a version number is never reused. */
  nextVersion(subject: string): number {
    return (this.lastVersions.get(subject) ?? 0) + 1;
  }

  /** The id a stored schema text has, or would get: the same schema has the same id in every subject. */
  idFor(schema: string): number {
    return this.idsBySchema.get(schema) ?? this.maxId + 1;
  }

  subjectNames(filter: DeletedFilter = 'live', prefix = ''): string[] {
    return [...this.subjects.entries()]
      .filter(([name, versions]) => name.startsWith(prefix) && this.hasVersions(versions, filter))
      .map(([name]) => name)
      .sort();
  }

  /** A subject listed as deleted-only has soft-deleted versions and no live one. */
  private hasVersions(versions: readonly SchemaVersion[], filter: DeletedFilter): boolean {
    const live = versions.some((version) => !version.deleted);
    if (filter === 'deleted-only') return !live && versions.length > 0;
    return filter === 'with-deleted' ? versions.length > 0 : live;
  }

  /** Whether a subject has a version (with `includeDeleted`, soft-deleted ones count). */
  hasSubject(subject: string, includeDeleted = false): boolean {
    return (this.subjects.get(subject) ?? []).some((version) => includeDeleted || !version.deleted);
  }

  /** Versions of a subject the filter shows, oldest first; 40401 when the subject has none at all. */
  liveVersions(subject: string, filter: DeletedFilter | boolean = 'live'): SchemaVersion[] {
    const mode: DeletedFilter = filter === true ? 'with-deleted' : filter === false ? 'live' : filter;
    if (!this.hasSubject(subject, mode !== 'live'))
      throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
    return (this.subjects.get(subject) ?? []).filter(shown(mode));
  }

  /** Live versions, or none when the subject does not exist (for compatibility checks). */
  liveVersionsOrNone(subject: string): SchemaVersion[] {
    return (this.subjects.get(subject) ?? []).filter((version) => !version.deleted);
  }

  /** Every version still known (live and soft-deleted), or none. */
  allVersions(subject: string): SchemaVersion[] {
    return [...(this.subjects.get(subject) ?? [])];
  }

  version(subject: string, version: number | 'latest', deleted = false): SchemaVersion {
    const live = this.liveVersions(subject, deleted);
    const found = version === 'latest' ? live.at(-1) : live.find((entry) => entry.version === version);
    if (found === undefined) throw new RegistryError('VERSION_NOT_FOUND', `Version ${version} not found.`);
    return found;
  }

  /** The live (with `deleted`: any) version of `subject` holding this canonical schema, the newest first. */
  lookup(subject: string, schema: string, deleted = false): SchemaVersion {
    const found = this.liveVersions(subject, deleted).findLast((version) => this.sameSchema(version, schema));
    if (found === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
    return found;
  }

  /** A schema by id — soft- and permanently deleted ones included: every message ever written stays decodable. */
  schemaById(id: number): string {
    const schema = this.schemasById.get(id);
    if (schema === undefined) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${id} not found`);
    return schema;
  }

  /** Subjects and versions in which a schema id appears (with `deleted`, soft-deleted ones too). */
  usages(id: number, deleted = false): SchemaVersion[] {
    return [...this.subjects.values()].flat().filter((entry) => entry.id === id && (deleted || !entry.deleted));
  }

  /** Every version of every subject the filter shows, by subject then version. */
  everyVersion(filter: DeletedFilter, prefix = ''): SchemaVersion[] {
    return this.subjectNames('with-deleted', prefix).flatMap((subject) =>
      (this.subjects.get(subject) ?? []).filter(shown(filter)),
    );
  }

  /** The configuration set on a subject (null: the global one), if any. */
  config(subject: string | null): SubjectConfig | undefined {
    return this.configs.get(subject);
  }

  /** The level set on a subject, if any. */
  subjectConfig(subject: string): CompatibilityLevel | undefined {
    return this.configs.get(subject)?.compatibilityLevel;
  }

  globalConfig(): CompatibilityLevel {
    return this.configs.get(null)?.compatibilityLevel ?? DEFAULT_COMPATIBILITY;
  }

  /** The level that applies to a subject: its own, else the global one. */
  effectiveConfig(subject: string): CompatibilityLevel {
    return this.subjectConfig(subject) ?? this.globalConfig();
  }
}
