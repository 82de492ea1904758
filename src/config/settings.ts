import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { DIMENSIONS } from '../model/dimensions.js';
import { SINKS } from '../model/version-settings.js';
import * as parse from './parsers.js';

/**
 * Every setting kappa knows, declared once: its flag, its environment variable, its default and
 * the schema that validates it. Commands pick the settings they use by key; the CLI derives its
 * flags and help from here, and the README's configuration table is checked against it.
 */
export interface Setting<T> {
  /** Long flag with its value placeholder, e.g. `--brokers <list>`. */
  readonly flag: string;
  readonly env: `KAPPA_${string}`;
  /** Default as text, parsed by the same schema as user input (a function when it depends on the machine). */
  readonly default: string | (() => string);
  /** How documentation shows a machine-dependent default. */
  readonly shownDefault?: string;
  /** A secret: read from the environment only, never a flag (argv is visible to every local user in ps). */
  readonly envOnly?: boolean;
  readonly schema: z.ZodType<T, string>;
  readonly doc: string;
  /**
   * Marks a secret (a token): `env` holds the value, `fileEnv` and the flag name a file holding
   * it. Never taken from the command line (it would show in `ps`), never shown in an error.
   */
  readonly fileEnv?: `KAPPA_${string}_FILE`;
}

function setting<T>(spec: Setting<T>): Setting<T> {
  return spec;
}

/** The schemas shipped with kappa (the package's schemas/ folder), wherever it is run from. */
function defaultSchemasDir(): string {
  return fileURLToPath(new URL('../../schemas', import.meta.url));
}

/** A file shipped in the package's data/ folder. */
function shippedData(file: string): () => string {
  return () => fileURLToPath(new URL(`../../data/${file}`, import.meta.url));
}

function defaultCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'kappa');
}

export const SETTINGS = {
  kafkaBrokers: setting({
    flag: '--brokers <list>',
    env: 'KAPPA_KAFKA_BROKERS',
    default: '127.0.0.1:9092',
    schema: parse.brokerList,
    doc: 'Kafka bootstrap brokers, comma-separated host:port',
  }),
  registryUrl: setting({
    flag: '--registry-url <url>',
    env: 'KAPPA_REGISTRY_URL',
    default: 'http://127.0.0.1:8081',
    schema: parse.url(['http', 'https'], 'http://127.0.0.1:8081'),
    doc: 'Schema registry (Confluent REST API) URL',
  }),
  registryHost: setting({
    flag: '--registry-host <address>',
    env: 'KAPPA_REGISTRY_HOST',
    default: '127.0.0.1',
    schema: parse.host,
    doc: 'Address the bundled schema registry listens on (kappa registry, kappa stack up)',
  }),
  registryPort: setting({
    flag: '--registry-port <port>',
    env: 'KAPPA_REGISTRY_PORT',
    default: '8081',
    schema: parse.port,
    doc: 'Port the bundled schema registry listens on',
  }),
  registryTopic: setting({
    flag: '--registry-topic <name>',
    env: 'KAPPA_REGISTRY_TOPIC',
    default: '_kappa_schemas',
    schema: parse.topicName,
    doc: "Compacted topic holding the bundled registry's schemas",
  }),
  schemasDir: setting({
    flag: '--schemas-dir <dir>',
    env: 'KAPPA_SCHEMAS_DIR',
    default: defaultSchemasDir,
    shownDefault: 'the shipped schemas/',
    schema: parse.directory,
    doc: 'Avro schema histories, one folder per topic',
  }),
  namesFile: setting({
    flag: '--names-file <file>',
    env: 'KAPPA_NAMES_FILE',
    default: shippedData('names.jsonl'),
    shownDefault: 'the shipped data/names.jsonl',
    schema: parse.directory,
    doc: 'Enrichment table of user names, JSON lines {"uid": n, "name": "..."}',
  }),
  deptsFile: setting({
    flag: '--depts-file <file>',
    env: 'KAPPA_DEPTS_FILE',
    default: shippedData('depts.jsonl'),
    shownDefault: 'the shipped data/depts.jsonl',
    schema: parse.directory,
    doc: 'Enrichment table of departments, JSON lines {"did": n, "name": "..."}',
  }),
  genderMale: setting({
    flag: '--male-label <text>',
    env: 'KAPPA_GENDER_MALE',
    default: '남성',
    schema: parse.label,
    doc: 'Gender label of even ids',
  }),
  genderFemale: setting({
    flag: '--female-label <text>',
    env: 'KAPPA_GENDER_FEMALE',
    default: '여성',
    schema: parse.label,
    doc: 'Gender label of odd ids',
  }),
  badRecords: setting({
    flag: '--bad-records <policy>',
    env: 'KAPPA_BAD_RECORDS',
    default: 'dead-letter',
    schema: parse.oneOf(['dead-letter', 'skip', 'fail']),
    doc: 'What a stage does with a record it cannot decode or validate',
  }),
  enrichTransactionMs: setting({
    flag: '--transaction-ms <duration>',
    env: 'KAPPA_ENRICH_TRANSACTION_MS',
    default: '1s',
    schema: parse.duration('1s'),
    doc: 'Enrichment catching up (over 10,000 records behind): commit a transaction after this much work (a live batch always ends one)',
  }),
  enrichTransactionRecords: setting({
    flag: '--transaction-records <n>',
    env: 'KAPPA_ENRICH_TRANSACTION_RECORDS',
    default: '50000',
    schema: parse.integer(1, 1_000_000, 50_000),
    doc: 'Enrichment: at most this many input records per transaction',
  }),
  mysqlUrl: setting({
    flag: '--mysql-url <url>',
    env: 'KAPPA_MYSQL_URL',
    default: 'mysql://root@127.0.0.1:3306/kappa',
    schema: parse.databaseUrl('mysql', 'mysql://root@127.0.0.1:3306/kappa'),
    doc: 'MySQL 8 / MariaDB 10.11 URL; the path names the database',
  }),
  sink: setting({
    flag: '--sink <store>',
    env: 'KAPPA_SINK',
    default: 'mysql',
    schema: parse.oneOf(SINKS),
    doc: 'Where `kappa aggregate` writes a version: MySQL tables, or MongoDB collections of the same names',
  }),
  mongodbUrl: setting({
    flag: '--mongodb-url <url>',
    env: 'KAPPA_MONGODB_URL',
    default: 'mongodb://127.0.0.1:27017/kappa',
    schema: parse.databaseUrl('mongodb', 'mongodb://127.0.0.1:27017/kappa'),
    doc: 'MongoDB URL for the optional MongoDB sink; the path names the database',
  }),
  apiHost: setting({
    flag: '--host <address>',
    env: 'KAPPA_API_HOST',
    default: '127.0.0.1',
    schema: parse.host,
    doc: 'Address the HTTP API listens on',
  }),
  apiToken: setting({
    flag: '--api-token-file <file>',
    env: 'KAPPA_API_TOKEN',
    fileEnv: 'KAPPA_API_TOKEN_FILE',
    default: '',
    shownDefault: '(none: cutover/rollback over HTTP refused)',
    schema: parse.token,
    doc: 'Bearer token required by POST /api/cutover and /api/rollback (the value in the variable, or a file holding it)',
  }),
  ingestToken: setting({
    flag: '--ingest-token-file <file>',
    env: 'KAPPA_INGEST_TOKEN',
    fileEnv: 'KAPPA_INGEST_TOKEN_FILE',
    default: '',
    shownDefault: '(none: ingest open, allowed only on a loopback address)',
    schema: parse.token,
    doc: 'Bearer token required by POST /api/events; required when the API listens on a non-loopback address',
  }),
  registryToken: setting({
    flag: '--registry-token-file <file>',
    env: 'KAPPA_REGISTRY_TOKEN',
    fileEnv: 'KAPPA_REGISTRY_TOKEN_FILE',
    default: '',
    shownDefault: '(none: registry writes open, allowed only on a loopback address)',
    schema: parse.token,
    doc: 'Bearer token the bundled schema registry requires for writes (POST, PUT, DELETE), and kappa sends to the registry; required when the registry listens on a non-loopback address',
  }),
  apiRateLimit: setting({
    flag: '--api-rate-limit <n>',
    env: 'KAPPA_API_RATE_LIMIT',
    default: '6000',
    schema: parse.integer(0, 1_000_000, 6_000),
    doc: 'Requests to any API route per client address per minute, counted before any token check (0: unlimited); beyond it 429 with Retry-After',
  }),
  ingestRateLimit: setting({
    flag: '--ingest-rate-limit <n>',
    env: 'KAPPA_INGEST_RATE_LIMIT',
    default: '600',
    schema: parse.integer(0, 1_000_000, 600),
    doc: 'POST /api/events requests per client address per minute (0: unlimited); beyond it 429 with Retry-After',
  }),
  apiPort: setting({
    flag: '--port <port>',
    env: 'KAPPA_API_PORT',
    default: '3000',
    schema: parse.port,
    doc: 'Port the HTTP API listens on',
  }),
  topicEvents: setting({
    flag: '--events-topic <name>',
    env: 'KAPPA_TOPIC_EVENTS',
    default: 'events',
    schema: parse.topicName,
    doc: 'Raw event log topic',
  }),
  topicStages: setting({
    flag: '--stages-topic <name>',
    env: 'KAPPA_TOPIC_STAGES',
    default: 'events_stages',
    schema: parse.topicName,
    doc: 'Enriched event topic',
  }),
  topicPartitions: setting({
    flag: '--partitions <n>',
    env: 'KAPPA_TOPIC_PARTITIONS',
    default: '3',
    schema: parse.integer(1, 10_000, 3),
    doc: 'Partitions for the pipeline topics when kappa creates them',
  }),
  topicReplicationFactor: setting({
    flag: '--replication-factor <n>',
    env: 'KAPPA_TOPIC_REPLICATION',
    default: 'auto',
    schema: parse.replication(32),
    doc: 'Replication factor of the topics kappa creates (pipeline, dead letters, schemas); auto: 3 from three brokers on, else the broker count',
  }),
  timeZone: setting({
    flag: '--time-zone <zone>',
    env: 'KAPPA_TIME_ZONE',
    default: 'Asia/Seoul',
    schema: parse.timeZone,
    doc: 'IANA zone of the `time` field of events',
  }),
  maxFuture: setting({
    flag: '--max-future <duration>',
    env: 'KAPPA_MAX_FUTURE',
    default: '1h',
    schema: parse.duration('1h'),
    doc: "How far an event's time may be ahead of its Kafka record's timestamp; beyond it the event is refused (future-time)",
  }),
  window: setting({
    flag: '--window <duration>',
    env: 'KAPPA_WINDOW',
    default: '10s',
    schema: parse.duration('10s'),
    doc: 'Aggregation window size',
  }),
  slide: setting({
    flag: '--slide <duration>',
    env: 'KAPPA_SLIDE',
    default: '10s',
    schema: parse.duration('10s'),
    doc: 'Aggregation window slide (equal to the window: tumbling)',
  }),
  watermarkDelay: setting({
    flag: '--watermark <duration>',
    env: 'KAPPA_WATERMARK',
    default: '15s',
    schema: parse.duration('15s'),
    doc: 'Watermark delay: how late an event may be and still count',
  }),
  latenessDelays: setting({
    flag: '--delays <list>',
    env: 'KAPPA_LATENESS_DELAYS',
    default: '15s,30s,60s,5m,1h',
    schema: parse.delayList,
    doc: 'Watermark delays `kappa lateness` and GET /api/lateness price (late events and windows for each)',
  }),
  latenessTarget: setting({
    flag: '--target <share>',
    env: 'KAPPA_LATENESS_TARGET',
    default: '0.1%',
    schema: parse.share,
    doc: 'Share of late events `kappa lateness` recommends a watermark delay for',
  }),
  dims: setting({
    flag: '--dims <list>',
    env: 'KAPPA_DIMS',
    default: 'user,dept,age',
    schema: parse.nameList(DIMENSIONS),
    doc: `Dimensions a job version aggregates, each a table (${DIMENSIONS.join(', ')})`,
  }),
  commitRecords: setting({
    flag: '--commit-records <n>',
    env: 'KAPPA_COMMIT_RECORDS',
    default: '50000',
    schema: parse.integer(1, 10_000_000, 50_000),
    doc: 'The aggregator commits at the latest after this many records of a partition',
  }),
  commitInterval: setting({
    flag: '--commit-interval <duration>',
    env: 'KAPPA_COMMIT_INTERVAL',
    default: '1s',
    schema: parse.duration('1s'),
    doc: 'The aggregator commits a partition at the latest after this much work (while catching up; the clock is read every 256 records)',
  }),
  stateDir: setting({
    flag: '--state-dir <dir>',
    env: 'KAPPA_STATE_DIR',
    default: '.kappa',
    schema: parse.directory,
    doc: 'Local state: broker data, pid files, logs',
  }),
  cacheDir: setting({
    flag: '--cache-dir <dir>',
    env: 'KAPPA_CACHE_DIR',
    default: defaultCacheDir,
    shownDefault: '$XDG_CACHE_HOME/kappa or ~/.cache/kappa',
    schema: parse.directory,
    doc: 'Download cache for the Apache Kafka jars',
  }),
  kafkaVersion: setting({
    flag: '--kafka-version <version>',
    env: 'KAPPA_KAFKA_VERSION',
    default: '3.9.2',
    schema: parse.kafkaVersion,
    doc: 'Apache Kafka release the local broker runs (3.9.x)',
  }),
  stackKafkaPort: setting({
    flag: '--kafka-port <port>',
    env: 'KAPPA_STACK_KAFKA_PORT',
    default: '9092',
    schema: parse.port,
    doc: 'Port of the local broker started by `kappa stack up`',
  }),
  stackControllerPort: setting({
    flag: '--controller-port <port>',
    env: 'KAPPA_STACK_CONTROLLER_PORT',
    default: '9093',
    schema: parse.port,
    doc: 'KRaft controller port of the local broker',
  }),
  stackKafkaHeap: setting({
    flag: '--kafka-heap <size>',
    env: 'KAPPA_STACK_KAFKA_HEAP',
    default: '512m',
    schema: parse.javaHeap,
    doc: 'JVM heap of the local broker',
  }),
  stackStartTimeout: setting({
    flag: '--start-timeout <duration>',
    env: 'KAPPA_STACK_START_TIMEOUT',
    default: '90s',
    schema: parse.duration('90s'),
    doc: 'How long `stack up` waits for the broker to answer',
  }),
  // --- Replication and secured Kafka clients (issue 23) ---
  topicMinInsync: setting({
    flag: '--min-insync <n>',
    env: 'KAPPA_TOPIC_MIN_INSYNC',
    default: 'auto',
    schema: parse.replication(32),
    doc: 'min.insync.replicas of the topics kappa creates; auto: 2 with three or more replicas, else 1',
  }),
  topicReplicationCheck: setting({
    flag: '--replication-check <mode>',
    env: 'KAPPA_TOPIC_REPLICATION_CHECK',
    default: 'warn',
    schema: parse.oneOf(['warn', 'refuse']),
    doc: 'When an existing topic has fewer replicas than the cluster allows: warn, or refuse to start',
  }),
  kafkaSsl: setting({
    flag: '--kafka-ssl <mode>',
    env: 'KAPPA_KAFKA_SSL',
    default: 'auto',
    schema: parse.oneOf(['auto', 'on', 'off']),
    doc: 'TLS to the brokers; auto: on when a CA or client certificate is set (on: trust the system CAs)',
  }),
  kafkaSslCa: setting({
    flag: '--kafka-ssl-ca <file>',
    env: 'KAPPA_KAFKA_SSL_CA',
    default: '',
    shownDefault: '(none: system CAs)',
    schema: parse.optionalFile,
    doc: "PEM file of the CA that signed the brokers' certificates",
  }),
  kafkaSslCert: setting({
    flag: '--kafka-ssl-cert <file>',
    env: 'KAPPA_KAFKA_SSL_CERT',
    default: '',
    shownDefault: '(none)',
    schema: parse.optionalFile,
    doc: 'PEM client certificate (mutual TLS), with KAPPA_KAFKA_SSL_KEY',
  }),
  kafkaSslKey: setting({
    flag: '--kafka-ssl-key <file>',
    env: 'KAPPA_KAFKA_SSL_KEY',
    default: '',
    shownDefault: '(none)',
    schema: parse.optionalFile,
    doc: 'PEM private key of the client certificate',
  }),
  kafkaSaslMechanism: setting({
    flag: '--kafka-sasl-mechanism <name>',
    env: 'KAPPA_KAFKA_SASL_MECHANISM',
    default: 'none',
    schema: parse.oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512']),
    doc: 'SASL authentication to the brokers: none, plain, scram-sha-256 or scram-sha-512',
  }),
  kafkaSaslUsername: setting({
    flag: '--kafka-sasl-username <name>',
    env: 'KAPPA_KAFKA_SASL_USERNAME',
    default: '',
    shownDefault: '(none)',
    schema: parse.text,
    doc: 'SASL user name',
  }),
  kafkaSaslPassword: setting({
    flag: '--kafka-sasl-password <secret>',
    env: 'KAPPA_KAFKA_SASL_PASSWORD',
    default: '',
    shownDefault: '(none)',
    envOnly: true,
    schema: parse.text,
    doc: 'SASL password (environment only, never a flag; or KAPPA_KAFKA_SASL_PASSWORD_FILE)',
  }),
  kafkaSaslPasswordFile: setting({
    flag: '--kafka-sasl-password-file <file>',
    env: 'KAPPA_KAFKA_SASL_PASSWORD_FILE',
    default: '',
    shownDefault: '(none)',
    schema: parse.optionalFile,
    doc: 'File holding the SASL password (its first line)',
  }),
  // --- end of issue 23's block ---
  logLevel: setting({
    flag: '--log-level <level>',
    env: 'KAPPA_LOG_LEVEL',
    default: 'info',
    schema: parse.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    doc: 'Log level (logs go to stderr)',
  }),
  logFormat: setting({
    flag: '--log-format <format>',
    env: 'KAPPA_LOG_FORMAT',
    default: 'auto',
    schema: parse.oneOf(['auto', 'json', 'pretty']),
    doc: 'Log lines as JSON or pretty text; auto: pretty on a terminal, JSON otherwise',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<infer T> ? T : never;

export type Config = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.freeze(Object.keys(SETTINGS) as SettingKey[]);
