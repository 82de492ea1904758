import { randomUUID } from 'node:crypto';
import { retry } from '../shared/retry.js';
import { canonicalSchema, parseAvro, type AvroType } from './avro-schema.js';
import {
  compatibilityViolations,
  describeViolation,
  type CompatibilityLevel,
  type CompatibilityViolation,
} from './compatibility.js';
import { logRecordKey, type LogRecord } from './log-records.js';

export { MemorySchemaLog, type SchemaLog } from './schema-log.js';
import { RegistryError } from './registry-errors.js';
import type { SchemaLog } from './schema-log.js';
import { subjectDeleteProblem, versionToDelete } from './delete-rules.js';
import { RegistryState, type DeletedFilter, type SchemaVersion, type SubjectConfig } from './registry-state.js';

/**
 * The largest record the schema log takes: a Kafka broker refuses messages over `message.max.bytes`
 * (1 MiB by default) with a 500-style error after the write; refused up front instead (42209).
 */
export const MAX_LOG_RECORD_BYTES = 1_000_000;

export interface RegistryServiceOptions {
  /** How long a write waits to see its own record applied. */
  readonly timeoutMs?: number;
  /** Register attempts when other instances keep winning the race for the next version. */
  readonly attempts?: number;
  /**
   * How long a read waits to catch up with the log before answering from memory. Reads never
   * need the broker: while it is unreachable they answer from the state applied so far.
   */
  readonly readCatchUpMs?: number;
}

/** Which compatibility check: against one version, or (`subject`) the way registering would check. */
export type CompatibilityTarget = number | 'latest' | 'subject';

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
  private readonly readCatchUpMs: number;
  /** Set while the log cannot be reached, so reads stop waiting for it until a catch-up succeeds. */
  private unreachable = false;
  private probing = false;

  constructor(
    private readonly log: SchemaLog,
    options: RegistryServiceOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 10;
    this.readCatchUpMs = options.readCatchUpMs ?? 2_000;
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

  /** Waits until every record written so far (by any instance) is applied; 50003 when the log is unreachable. */
  async sync(): Promise<void> {
    let end: number;
    try {
      end = await this.log.endOffset();
    } catch (error) {
      throw unavailable(error);
    }
    await this.waitApplied(end - 1);
  }

  /**
   * For reads: catches up with the log if it can within `readCatchUpMs` (so an id registered
   * through another instance a moment ago resolves), else carries on with the state in memory —
   * as Confluent's registry answers reads from its cache while Kafka is away. Never throws.
   */
  async catchUp(): Promise<void> {
    if (this.unreachable) {
      // One attempt at a time in the background tells when the log is back; reads do not wait.
      if (!this.probing) {
        this.probing = true;
        void this.sync()
          .then(
            () => (this.unreachable = false),
            () => undefined,
          )
          .finally(() => (this.probing = false));
      }
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.readCatchUpMs)));
    const synced = this.sync().then(
      () => 'synced' as const,
      () => 'failed' as const,
    );
    const outcome = await Promise.race([synced, bound]);
    clearTimeout(timer);
    if (outcome !== 'synced') this.unreachable = true;
  }

  private async fresh<T>(read: () => T): Promise<T> {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof RegistryError) || error.status !== 404) throw error;
      await this.catchUp();
      return read();
    }
  }

  /** Appends a record and waits until it is applied; 50003 when the log cannot be written. */
  private async write(record: LogRecord): Promise<void> {
    let offset: number;
    try {
      offset = await this.log.append(record);
    } catch (error) {
      throw unavailable(error);
    }
    await this.waitApplied(offset);
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
    const size = Buffer.byteLength(
      JSON.stringify({ type: 'register', subject, version: 2 ** 31 - 1, id: 2 ** 31 - 1, schema, nonce: randomUUID() }),
    );
    if (
      size + Buffer.byteLength(logRecordKey({ type: 'delete-subject', subject, nonce: randomUUID() })) >
      MAX_LOG_RECORD_BYTES
    )
      throw new RegistryError(
        'SCHEMA_TOO_LARGE',
        `Register operation failed because schema is too large: its record would take ${size} bytes; the schema log takes records of at most ${MAX_LOG_RECORD_BYTES} bytes (Kafka's default message.max.bytes is 1 MiB)`,
      );
    return this.serially(() => this.registerParsed(subject, schema, candidate));
  }

  private registerParsed(subject: string, schema: string, candidate: AvroType): Promise<number> {
    return retry(async () => {
      await this.sync();
      const live = this.state.liveVersionsOrNone(subject);
      const existing = live.findLast((version) => this.state.sameSchema(version, schema));
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
      const stored = this.state.storedTextFor(schema);
      const id = this.state.idFor(stored);
      await this.write({
        type: 'register',
        subject,
        version: this.state.nextVersion(subject),
        id,
        schema: stored,
        nonce,
      });
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
    return this.fresh(() => this.state.lookup(subject, schema, deleted));
  }

  schemaById(id: number): Promise<string> {
    return this.fresh(() => this.state.schemaById(id));
  }

  version(subject: string, version: number | 'latest', deleted = false): Promise<SchemaVersion> {
    return this.fresh(() => this.state.version(subject, version, deleted));
  }

  versions(subject: string, filter: DeletedFilter = 'live'): Promise<number[]> {
    return this.fresh(() => this.state.liveVersions(subject, filter).map((entry) => entry.version));
  }

  /**
   * Whether a schema could be registered. Against one version (or the latest) when asked so, as
   * Confluent does even under a *_TRANSITIVE level; for `subject`, against the versions the
   * subject's level names. Returns the violations, one line each. A version that does not exist
   * is 40402 — also on a subject that does not exist, where "latest" checks against nothing.
   */
  async checkCompatibility(subject: string, target: CompatibilityTarget, schemaText: string): Promise<string[]> {
    await this.catchUp();
    let against: SchemaVersion[] = this.state.liveVersionsOrNone(subject);
    if (target === 'latest') against = against.slice(-1);
    else if (target !== 'subject') {
      const found = against.find((entry) => entry.version === target);
      if (found === undefined) throw new RegistryError('VERSION_NOT_FOUND', `Version ${target} not found.`);
      against = [found];
    }
    const candidate = parseAvro(canonicalSchema(schemaText));
    const level = this.state.effectiveConfig(subject);
    return this.violations(candidate, target === 'subject' ? level : nonTransitive(level), against).map(
      describeViolation,
    );
  }

  /** Sets a subject's (null: the global) configuration; fields left out keep their value. */
  setConfig(subject: string | null, update: SubjectConfig | null): Promise<void> {
    return this.serially(async () => {
      await this.sync();
      const merged = update === null ? {} : { ...this.state.config(subject), ...update };
      await this.write({
        type: 'config',
        subject,
        compatibility: merged.compatibilityLevel ?? null,
        ...(merged.normalize === undefined ? {} : { normalize: merged.normalize }),
        nonce: randomUUID(),
      });
    });
  }

  /**
   * Soft-deletes every live version of a subject (its schemas stay resolvable by id); `permanent`
   * then forgets the soft-deleted versions — their ids still resolve: replays need them.
   */
  deleteSubject(subject: string, permanent = false): Promise<number[]> {
    return this.serially(async () => {
      await this.sync();
      const problem = subjectDeleteProblem(subject, this.state.allVersions(subject), permanent);
      if (problem !== undefined) throw problem;
      // Confluent answers the versions it deleted: the live ones, or (permanent) every one left.
      const versions = this.state
        .allVersions(subject)
        .filter((entry) => permanent || !entry.deleted)
        .map((entry) => entry.version);
      await this.write({ type: 'delete-subject', subject, permanent, nonce: randomUUID() });
      return versions;
    });
  }

  /** Soft-deletes one version (`permanent`: forgets a soft-deleted one); resolves to its number. */
  deleteVersion(subject: string, version: number | 'latest', permanent = false): Promise<number> {
    return this.serially(async () => {
      await this.sync();
      const target = versionToDelete(subject, this.state.allVersions(subject), version, permanent);
      await this.write({ type: 'delete-version', subject, version: target.version, permanent, nonce: randomUUID() });
      return target.version;
    });
  }
}

/** Confluent checks a schema against one given version alike under a level and its *_TRANSITIVE twin. */
function nonTransitive(level: CompatibilityLevel): CompatibilityLevel {
  return level.endsWith('_TRANSITIVE') ? (level.replace('_TRANSITIVE', '') as CompatibilityLevel) : level;
}

function unavailable(cause: unknown): RegistryError {
  if (cause instanceof RegistryError) return cause;
  return new RegistryError(
    'STORE_UNAVAILABLE',
    `The schema log cannot be reached (${(cause as Error).message}): writes need the Kafka broker; reads are answered from memory`,
    { cause },
  );
}
