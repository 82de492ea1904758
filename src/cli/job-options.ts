import { z } from 'zod';
import { DIMENSIONS, isJobVersion, type Dimension } from '../aggregates/job-names.js';
import type { AggregateOptions } from '../aggregates/run.js';
import type { Config } from '../config/settings.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../shared/logger.js';

/** `v` + digits: names a job version's consumer group and tables. */
export const versionName = z.string().refine(isJobVersion, 'expected v followed by digits, e.g. v1');

/** `user,dept,age` → the dimensions, each once. */
export const dimensionList = z.string().transform((text, ctx) => {
  const dims = text.split(',').map((dim) => dim.trim());
  const unknown = dims.filter((dim) => !(DIMENSIONS as readonly string[]).includes(dim));
  if (unknown.length > 0 || dims.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${DIMENSIONS.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(dims)] as Dimension[];
});

type JobSettings = Pick<
  Config,
  | 'kafkaBrokers'
  | 'registryUrl'
  | 'mysqlUrl'
  | 'topicStages'
  | 'topicPartitions'
  | 'topicReplicationFactor'
  | 'schemasDir'
  | 'window'
  | 'slide'
  | 'watermark'
  | 'timeZone'
>;

/** What `kappa aggregate` and `kappa recover` both hand the aggregator, from the settings. */
export function aggregateJob(
  config: Readonly<JobSettings>,
  version: string,
  dims: readonly Dimension[],
  logger: Logger,
  signal: AbortSignal,
  clientId: string,
) {
  return {
    kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId }),
    registryUrl: config.registryUrl,
    mysqlUrl: config.mysqlUrl,
    stagesTopic: config.topicStages,
    topicPartitions: config.topicPartitions,
    topicReplicationFactor: config.topicReplicationFactor,
    schemasDir: config.schemasDir,
    version,
    settings: { sizeMs: config.window, slideMs: config.slide, delayMs: config.watermark },
    dims,
    timeZone: config.timeZone,
    logger,
    signal,
  } satisfies Partial<AggregateOptions>;
}
