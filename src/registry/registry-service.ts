import { randomUUID } from 'node:crypto';
import { retry } from '../shared/retry.js';
import { canonicalSchema, parseAvro, type AvroType } from './avro-schema.js';
import {
  compatibilityViolations,
  describeViolation,
  type CompatibilityLevel,
  type CompatibilityViolation,
} from './compatibility.js';
import type { LogRecord } from './log-records.js';
import { RegistryError } from './registry-errors.js';
import { RegistryState, type SchemaVersion } from './registry-state.js';

/** Where the registry's records live: a Kafka topic in production, an array in unit tests. */
export interface SchemaLog {
  /** Appends a record; resolves to its offset once durably written. */
  append(record: LogRecord): Promise<number>;
  /** The offset the next appended record would get (the log's end). */
  endOffset(): Promise<number>;
}

export interface RegistryServiceOptions {
  /** How long a write waits to see its own record applied. */
  readonly timeoutMs?: number;
  /** Register attempts when other instances keep winning the race for the next version. */
  readonly attempts?: number;
}

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
}

/** Another instance took the next version first: worth another round (retry.ts asks `retriable`). */
class LostRegisterRace extends Error {
  readonly retriable = true;
}

/** Short, widely jittered waits: racing instances spread out rather than colliding again. */
const REGISTER_RETRY = (attempts: number) => ({ attempts, initialDelayMs: 15, maxDelayMs: 250, jitter: 0.7 });

/**
 * The registry's operations over its log. Reads answer from the state applied so far (catching up
 * first on a miss, so an id registered through another instance a moment ago still resolves);
 * writes append a record and wait until the log, applied in order, says whether it won.
 */
export class RegistryService {
  readonly state = new RegistryState();
  private appliedOffset = -1;
  private waiters: Waiter[] = [];
  private readonly types = new Map<number, AvroType>();
  private writes: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(
    private readonly log: SchemaLog,
    options: RegistryServiceOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 10;
  }

  /** Feeds the service the log's records in order (undecodable ones as undefined). */
  onRecord(offset: number, record: LogRecord | undefined): void {
    // A consumer may deliver a record again (after a rebalance it restarts from the beginning):
    // applying the log is only deterministic if each offset is applied once, in order.
    if (offset <= this.appliedOffset) return;
    if (record !== undefined) this.state.apply(record);
    this.appliedOffset = offset;
    const ready = this.waiters.filter((waiter) => waiter.offset <= offset);
    this.waiters = this.waiters.filter((waiter) => waiter.offset > offset);
    for (const waiter of ready) waiter.resolve();
  }

  private waitApplied(offset: number): Promise<void> {
    if (offset <= this.appliedOffset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(
          new RegistryError(
            'OPERATION_TIMEOUT',
            `the schema log did not reach offset ${offset} within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ offset, resolve: done });
    });
  }

  /** Waits until every record written so far (by any instance) is applied. */
  async sync(): Promise<void> {
    await this.waitApplied((await this.log.endOffset()) - 1);
  }

  private async fresh<T>(read: () => T): Promise<T> {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof RegistryError) || error.status !== 404) throw error;
      await this.sync();
      return read();
    }
  }

  private typeOf(version: SchemaVersion): AvroType {
    let type = this.types.get(version.id);
    if (type === undefined) {
      type = parseAvro(version.schema);
      this.types.set(version.id, type);
    }
    return type;
  }

  private violations(
    candidate: AvroType,
    level: CompatibilityLevel,
    against: readonly SchemaVersion[],
  ): readonly CompatibilityViolation[] {
    return compatibilityViolations(
      level,
      candidate,
      against.map((version) => ({ version: version.version, type: this.typeOf(version) })),
    );
  }

  /**
   * Runs this instance's writes one at a time: they would only race each other for the next id.
   * Races with other instances remain, and are settled by the log (see RegistryState).
   */
  private serially<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write);
    this.writes = result.catch(() => undefined);
    return result;
  }

  /** Registers a schema under a subject (or finds it there); resolves to its id. */
  async register(subject: string, schemaText: string): Promise<number> {
    const schema = canonicalSchema(schemaText);
    const candidate = parseAvro(schema);
    return this.serially(() => this.registerParsed(subject, schema, candidate));
  }

  private registerParsed(subject: string, schema: string, candidate: AvroType): Promise<number> {
    return retry(async () => {
      await this.sync();
      const live = this.state.liveVersionsOrNone(subject);
      const existing = live.find((version) => version.schema === schema);
      if (existing !== undefined) return existing.id;
      const level = this.state.effectiveConfig(subject);
      const violations = this.violations(candidate, level, live);
      if (violations.length > 0) {
        throw new RegistryError(
          'INCOMPATIBLE_SCHEMA',
          `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${level}): ${violations.map(describeViolation).join('; ')}`,
        );
      }
      const nonce = randomUUID();
      const id = this.state.idFor(schema);
      await this.waitApplied(
        await this.log.append({
          type: 'register',
          subject,
          version: this.state.nextVersion(subject),
          id,
          schema,
          nonce,
        }),
      );
      if (this.state.wasAccepted(nonce)) return id;
      // Another instance won the last round: let it finish before trying the next version.
      throw new LostRegisterRace();
    }, REGISTER_RETRY(this.attempts)).catch((error: unknown) => {
      if (!(error instanceof LostRegisterRace)) throw error;
      throw new RegistryError(
        'STORE_ERROR',
        `could not register a schema under "${subject}" in ${this.attempts} attempts: other writers kept taking the next version`,
      );
    });
  }

  /** The live version of a subject holding this schema (POST /subjects/{subject}). */
  async lookup(subject: string, schemaText: string, deleted = false): Promise<SchemaVersion> {
    const schema = canonicalSchema(schemaText);
    parseAvro(schema);
    return this.fresh(() => this.state.lookup(subject, schema, deleted));
  }

  schemaById(id: number): Promise<string> {
    return this.fresh(() => this.state.schemaById(id));
  }

  version(subject: string, version: number | 'latest', deleted = false): Promise<SchemaVersion> {
    return this.fresh(() => this.state.version(subject, version, deleted));
  }

  versions(subject: string, deleted = false): Promise<number[]> {
    return this.fresh(() => this.state.liveVersions(subject, deleted).map((entry) => entry.version));
  }

  /**
   * Whether a schema could be registered: against every version the level asks for when `version`
   * is "latest", against that one version otherwise. Returns the violations, one line each.
   */
  async checkCompatibility(subject: string, version: number | 'latest', schemaText: string): Promise<string[]> {
    const candidate = parseAvro(canonicalSchema(schemaText));
    await this.sync();
    const level = this.state.effectiveConfig(subject);
    const against =
      version === 'latest' ? this.state.liveVersionsOrNone(subject) : [this.state.version(subject, version)];
    return this.violations(candidate, level, against).map(describeViolation);
  }

  setConfig(subject: string | null, compatibility: CompatibilityLevel | null): Promise<void> {
    return this.serially(async () => {
      await this.waitApplied(await this.log.append({ type: 'config', subject, compatibility, nonce: randomUUID() }));
    });
  }

  /** Soft-deletes every version of a subject; its schemas stay resolvable by id. */
  deleteSubject(subject: string): Promise<number[]> {
    return this.serially(async () => {
      await this.sync();
      const versions = this.state.liveVersions(subject).map((entry) => entry.version);
      await this.waitApplied(await this.log.append({ type: 'delete-subject', subject, nonce: randomUUID() }));
      return versions;
    });
  }
}

/** A SchemaLog in memory, for unit tests: records are applied as soon as they are appended. */
export class MemorySchemaLog implements SchemaLog {
  readonly records: LogRecord[] = [];
  private readonly listeners: ((offset: number, record: LogRecord) => void)[] = [];

  subscribe(listener: (offset: number, record: LogRecord) => void): void {
    this.records.forEach((record, offset) => listener(offset, record));
    this.listeners.push(listener);
  }

  append(record: LogRecord): Promise<number> {
    const offset = this.records.push(record) - 1;
    // Delivered on a later tick, as a consumer would: writers must wait for their own record.
    setImmediate(() => this.listeners.forEach((listener) => listener(offset, record)));
    return Promise.resolve(offset);
  }

  endOffset(): Promise<number> {
    return Promise.resolve(this.records.length);
  }
}
