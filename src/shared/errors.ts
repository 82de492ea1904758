/**
 * Every error kappa raises on purpose is a KappaError with a stable code. Codes are never reused;
 * each one is documented in docs/errors.md (a test keeps the two in step). Callers decide on retry
 * from `retriable` alone and map exit codes / HTTP statuses from `code`, never from message text.
 */

export const ERROR_CODES = {
  KAPPA_CONFIG_INVALID: { exitCode: 2, retriable: false },
  KAPPA_NOT_IMPLEMENTED: { exitCode: 1, retriable: false },
  KAPPA_JAVA_MISSING: { exitCode: 1, retriable: false },
  KAPPA_JAVA_TOO_OLD: { exitCode: 1, retriable: false },
  KAPPA_MAVEN_MISSING: { exitCode: 1, retriable: false },
  KAPPA_KAFKA_FETCH_FAILED: { exitCode: 1, retriable: true },
  KAPPA_BROKER_PORT_IN_USE: { exitCode: 1, retriable: false },
  KAPPA_BROKER_FORMAT_FAILED: { exitCode: 1, retriable: false },
  KAPPA_BROKER_START_FAILED: { exitCode: 1, retriable: false },
  KAPPA_BROKER_STOP_FAILED: { exitCode: 1, retriable: false },
  KAPPA_REGISTRY_PORT_IN_USE: { exitCode: 1, retriable: false },
  KAPPA_REGISTRY_START_FAILED: { exitCode: 1, retriable: false },
  KAPPA_REGISTRY_STOP_FAILED: { exitCode: 1, retriable: false },
  KAPPA_SCHEMAS_INVALID: { exitCode: 1, retriable: false },
  KAPPA_SCHEMAS_INCOMPATIBLE: { exitCode: 1, retriable: false },
  KAPPA_SCHEMAS_REGISTER_FAILED: { exitCode: 1, retriable: true },
  KAPPA_INGEST_TAIL_TIMEOUT: { exitCode: 1, retriable: true },
  KAPPA_TABLE_INVALID: { exitCode: 1, retriable: false },
  KAPPA_BAD_RECORD: { exitCode: 1, retriable: false },
  KAPPA_VERSION_SETTINGS_MISMATCH: { exitCode: 1, retriable: false },
  KAPPA_PROGRESS_MOVED: { exitCode: 1, retriable: true },
  KAPPA_MARIADB_UNAVAILABLE: { exitCode: 1, retriable: true },
  KAPPA_KAFKA_UNREACHABLE: { exitCode: 1, retriable: true },
  KAPPA_VERSION_UNKNOWN: { exitCode: 1, retriable: false, httpStatus: 404 },
  KAPPA_RECOVER_REFUSED: { exitCode: 1, retriable: false },
  KAPPA_RECOVER_PREFLIGHT: { exitCode: 1, retriable: false },
  KAPPA_CUTOVER_REFUSED: { exitCode: 1, retriable: true, httpStatus: 409 },
  KAPPA_ROLLBACK_REFUSED: { exitCode: 1, retriable: false, httpStatus: 409 },
  KAPPA_CUTOVER_UNEXPLAINED: { exitCode: 1, retriable: false, httpStatus: 409 },
  KAPPA_EXPLAIN_STOPPED: { exitCode: 1, retriable: true },
  KAPPA_MONGO_FETCH_FAILED: { exitCode: 1, retriable: true },
  KAPPA_MONGO_STANDIN_FAILED: { exitCode: 1, retriable: false },
  KAPPA_STAGES_PARTITIONS: { exitCode: 1, retriable: false },
  KAPPA_TOPIC_NOT_READY: { exitCode: 1, retriable: true },
  KAPPA_KAFKAJS_VERSION_MISMATCH: { exitCode: 1, retriable: false },
  KAPPA_ID_SEQUENCE_UNAVAILABLE: { exitCode: 1, retriable: true },
  KAPPA_MIGRATIONS_LOCKED: { exitCode: 1, retriable: true },
  KAPPA_INGEST_BUFFER_CORRUPT: { exitCode: 1, retriable: false },
  KAPPA_LATENESS_NO_TOPIC: { exitCode: 1, retriable: true },
  KAPPA_SCHEMA_NOT_FOUND: { exitCode: 1, retriable: false },
  KAPPA_MYSQL_UNAVAILABLE: { exitCode: 1, retriable: true },
  KAPPA_SQL_REJECTED: { exitCode: 1, retriable: false },
  KAPPA_CONSUMER_CRASHED: { exitCode: 1, retriable: false },
  KAPPA_GENERATOR_FAILED: { exitCode: 1, retriable: false },
  KAPPA_KAFKA_AUTH_FAILED: { exitCode: 1, retriable: false },
  KAPPA_KAFKA_SECURITY_INVALID: { exitCode: 2, retriable: false },
  KAPPA_TOPIC_UNDER_REPLICATED: { exitCode: 1, retriable: false },
  KAPPA_LATENESS_BUSY: { exitCode: 1, retriable: true, httpStatus: 503 },
  KAPPA_ENRICH_ILLEGAL_TRANSITION: { exitCode: 1, retriable: false },
  // The HTTP API's answers (src/api): the JSON error body carries the code, the status comes from here.
  KAPPA_BAD_REQUEST: { exitCode: 1, retriable: false, httpStatus: 400 },
  KAPPA_BAD_EVENT: { exitCode: 1, retriable: false, httpStatus: 400 },
  KAPPA_UNAUTHORIZED: { exitCode: 1, retriable: false, httpStatus: 401 },
  KAPPA_NOT_FOUND: { exitCode: 1, retriable: false, httpStatus: 404 },
  KAPPA_NO_SERVING_VERSION: { exitCode: 1, retriable: true, httpStatus: 404 },
  KAPPA_PAYLOAD_TOO_LARGE: { exitCode: 1, retriable: false, httpStatus: 413 },
  KAPPA_UNSUPPORTED_MEDIA_TYPE: { exitCode: 1, retriable: false, httpStatus: 415 },
  KAPPA_IDEMPOTENCY_KEY_REUSED: { exitCode: 1, retriable: false, httpStatus: 422 },
  KAPPA_IDEMPOTENCY_KEY_BUSY: { exitCode: 1, retriable: true, httpStatus: 409 },
  KAPPA_RATE_LIMITED: { exitCode: 1, retriable: true, httpStatus: 429 },
  KAPPA_MISDIRECTED_REQUEST: { exitCode: 1, retriable: false, httpStatus: 421 },
  KAPPA_INTERNAL: { exitCode: 1, retriable: true, httpStatus: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status the API answers a code with (500 for codes that are not about a request). */
export function httpStatusOf(code: ErrorCode): number {
  const entry: { readonly exitCode: number; readonly httpStatus?: number } = ERROR_CODES[code];
  return entry.httpStatus ?? 500;
}

export interface KappaErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default when one occurrence is retriable and another is not. */
  readonly retriable?: boolean;
}

export class KappaError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: KappaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KappaError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

/** One invalid setting; the message is a single line that names the setting and what to type. */
export class ConfigError extends KappaError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('KAPPA_CONFIG_INVALID', message);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

/** Several invalid settings found in one pass, reported together (one line each). */
export class ConfigErrors extends KappaError {
  readonly errors: readonly ConfigError[];

  constructor(errors: readonly ConfigError[]) {
    super('KAPPA_CONFIG_INVALID', errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

/** Where in Kafka an error happened: each field set when known (STYLE.md §4: context in fields, not only in text). */
export interface KafkaContext {
  readonly topic?: string;
  readonly partition?: number;
  /** A Kafka offset, as kafkajs gives it (a decimal string). */
  readonly offset?: string;
  readonly schemaId?: number;
}

/** A KappaError about a topic, partition, record or schema, carrying them as fields. */
export class KafkaContextError extends KappaError implements KafkaContext {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly schemaId?: number;

  constructor(code: ErrorCode, message: string, context: KafkaContext, options: KappaErrorOptions = {}) {
    super(code, message, options);
    this.name = 'KafkaContextError';
    if (context.topic !== undefined) this.topic = context.topic;
    if (context.partition !== undefined) this.partition = context.partition;
    if (context.offset !== undefined) this.offset = context.offset;
    if (context.schemaId !== undefined) this.schemaId = context.schemaId;
  }
}

/** No broker answered (kafkajs gave up after its own retries); retriable: the broker may come back. */
export class KafkaUnreachableError extends KappaError {
  constructor(message: string, options: KappaErrorOptions = {}) {
    super('KAPPA_KAFKA_UNREACHABLE', message, options);
    this.name = 'KafkaUnreachableError';
  }
}

/** A connection holding a named lock, as MySQL tells it (user and host only when this account may see them). */
export interface LockHolder {
  readonly connectionId: number;
  readonly user?: string;
  readonly host?: string;
}

/** Another process held a database's migrations lock for longer than a start waits: nothing was migrated. */
export class MigrationsLockedError extends KappaError {
  readonly database: string;
  readonly lock: string;
  readonly holder?: LockHolder;

  constructor(database: string, lock: string, waitedSeconds: number, holder: LockHolder | undefined) {
    const who =
      holder === undefined
        ? 'a connection that has released it since (try again)'
        : `MySQL connection ${holder.connectionId}${holder.user === undefined ? '' : ` (${holder.user}@${holder.host ?? '?'})`}`;
    super(
      'KAPPA_MIGRATIONS_LOCKED',
      `the migrations of database ${database} are locked by ${who}, still after ${waitedSeconds}s: another kappa is migrating it or hung doing so; nothing was migrated. Find it with SHOW PROCESSLIST (KILL <id> if it is stuck), then start again`,
    );
    this.name = 'MigrationsLockedError';
    this.database = database;
    this.lock = lock;
    if (holder !== undefined) this.holder = holder;
  }
}

export function isKappaError(error: unknown): error is KappaError {
  return error instanceof KappaError;
}
