import { z } from 'zod';
import { isJobVersion } from '../aggregates/job-names.js';
import type { Config } from '../config/settings.js';

// The lists of settings jobs are built from, apart from the builders (job-options.ts), which load
// kafkajs: a command's flags are known without loading what it runs.

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
  'watermarkDelay',
  'maxFuture',
  'dims',
  'commitRecords',
  'commitInterval',
  'schemasDir',
] as const satisfies readonly (keyof Config)[];

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
