import type { AggregateOptions } from '../aggregates/run.js';
import { versionSettings } from '../model/version-settings.js';
import type { Config } from '../config/settings.js';
import { createKafka } from '../kafka/client.js';
import { serveFirstToCommit } from '../recovery/serving-pointer.js';
import type { Logger } from '../shared/logger.js';
import type { EnrichOptions } from '../stages/enrich/run.js';
import { loadEnrichmentTables } from '../stages/enrich/static-tables.js';
import type { ENRICH_SETTINGS, VERSION_SETTINGS } from './job-settings.js';

/** `recover` always writes MySQL: sink and MongoDB URL may be absent. */
type JobSettings = Pick<Config, Exclude<(typeof VERSION_SETTINGS)[number], 'sink' | 'mongodbUrl'>> &
  Partial<Pick<Config, 'sink' | 'mongodbUrl'>>;

/**
 * What `kappa up`, `kappa aggregate` and `kappa recover` hand the aggregator: one definition of a
 * version's settings (window, slide, watermark, dims, time zone, stages topic, sink, max future).
 */
export function aggregateJob(
  config: Readonly<JobSettings>,
  version: string,
  logger: Logger,
  signal: AbortSignal,
  clientId: string,
) {
  const settings = versionSettings(config);
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
    settings,
    limits: { maxRecords: config.commitRecords, maxMs: config.commitInterval },
    // SPEC §1.4: the first version to commit rows serves; decided by recovery, not by the sink.
    ...(settings.sink === 'mysql'
      ? { afterRowsCommitted: serveFirstToCommit(config.mysqlUrl, { version, dims: settings.dims }) }
      : {}),
    logger,
    signal,
  } satisfies Partial<AggregateOptions>;
}

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
