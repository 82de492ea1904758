import { z } from 'zod';
import { isJobVersion } from '../aggregates/job-names.js';
import type { AggregateOptions } from '../aggregates/run.js';
import { versionSettings } from '../aggregates/version-settings.js';
import type { Config } from '../config/settings.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichOptions } from '../stages/enrich/run.js';
import { loadEnrichmentTables } from '../stages/enrich/static-tables.js';

/** `v` + digits: names a job version's consumer group and tables. */
export const versionName = z.string().refine(isJobVersion, 'expected v followed by digits, e.g. v1');

/** The settings a job version is built from: `kappa up`, `aggregate` and `recover` pick all of them. */
export const VERSION_SETTINGS = [
  'kafkaBrokers',
  'registryUrl',
  'sink',
  'mysqlUrl',
  'mongodbUrl',
  'topicStages',
  'topicPartitions',
  'topicReplicationFactor',
  'topicMinInsync',
  'timeZone',
  'window',
  'slide',
  'watermark',
  'maxFuture',
  'dims',
  'commitRecords',
  'commitInterval',
  'schemasDir',
] as const satisfies readonly (keyof Config)[];

/** `recover` always writes MySQL: sink and MongoDB URL may be absent. */
type JobSettings = Pick<Config, Exclude<(typeof VERSION_SETTINGS)[number], 'sink' | 'mongodbUrl'>> &
  Partial<Pick<Config, 'sink' | 'mongodbUrl'>>;

/**
 * What `kappa up`, `kappa aggregate` and `kappa recover` hand the aggregator: one definition of a
 * version's settings (window, slide, watermark, dims, time zone, stages topic, sink).
 */
export function aggregateJob(
  config: Readonly<JobSettings>,
  version: string,
  logger: Logger,
  signal: AbortSignal,
  clientId: string,
) {
  return {
    kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId }),
    registryUrl: config.registryUrl,
    mysqlUrl: config.mysqlUrl,
    ...(config.mongodbUrl === undefined ? {} : { mongodbUrl: config.mongodbUrl }),
    topicPartitions: config.topicPartitions,
    topicReplicationFactor: config.topicReplicationFactor,
    topicMinInsync: config.topicMinInsync,
    schemasDir: config.schemasDir,
    version,
    settings: versionSettings(config),
    maxFutureMs: config.maxFuture,
    limits: { maxRecords: config.commitRecords, maxMs: config.commitInterval },
    logger,
    signal,
  } satisfies Partial<AggregateOptions>;
}

/**
 * The settings the enrichment stage is built from: `kappa enrich` and `kappa up` pick all of them,
 * `recover --from` all but the events topic (its `--from`). One list, so a supervisor cannot start
 * the stage without one of them (kappa up once ignored KAPPA_ENRICH_TRANSACTION_MS).
 */
export const ENRICH_SETTINGS = [
  'kafkaBrokers',
  'registryUrl',
  'topicEvents',
  'topicStages',
  'topicPartitions',
  'topicReplicationFactor',
  'topicMinInsync',
  'topicReplicationCheck',
  'schemasDir',
  'namesFile',
  'deptsFile',
  'genderMale',
  'genderFemale',
  'badRecords',
  'timeZone',
  'maxFuture',
  'enrichTransactionMs',
  'enrichTransactionRecords',
] as const satisfies readonly (keyof Config)[];

type EnrichSettings = Pick<Config, (typeof ENRICH_SETTINGS)[number]>;

/**
 * What the enrichment does with a record, apart from where it reads and writes: its tables (loaded
 * first: a malformed file is a start-up error naming file and line), the bad-record policy and the
 * transaction size. A full-chain replay takes these with its own topics.
 */
export async function enrichmentRules(
  config: Readonly<Omit<EnrichSettings, 'topicEvents'>>,
): Promise<Required<Pick<EnrichOptions, 'tables' | 'badRecords' | 'timeZone' | 'maxFutureMs' | 'transactions'>>> {
  return {
    tables: await loadEnrichmentTables(config),
    badRecords: config.badRecords,
    timeZone: config.timeZone,
    maxFutureMs: config.maxFuture,
    transactions: { maxMs: config.enrichTransactionMs, maxRecords: config.enrichTransactionRecords },
  };
}

/** What `kappa enrich` and `kappa up` hand the enrichment stage: one definition of its settings. */
export async function enrichJob(
  config: Readonly<EnrichSettings>,
  logger: Logger,
  signal: AbortSignal,
  clientId: string,
): Promise<EnrichOptions> {
  return {
    kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId }),
    registryUrl: config.registryUrl,
    topics: config,
    schemasDir: config.schemasDir,
    ...(await enrichmentRules(config)),
    logger,
    signal,
  };
}
