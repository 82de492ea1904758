import { z } from 'zod';
import { isJobVersion } from '../aggregates/job-names.js';
import type { AggregateOptions } from '../aggregates/run.js';
import { versionSettings } from '../aggregates/version-settings.js';
import type { Config } from '../config/settings.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../shared/logger.js';

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
    limits: { maxRecords: config.commitRecords, maxMs: config.commitInterval },
    logger,
    signal,
  } satisfies Partial<AggregateOptions>;
}
