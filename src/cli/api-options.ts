import type { ApiServerOptions } from '../api/server.js';
import type { Config } from '../config/settings.js';

/** The settings `kappa serve` and `kappa up` both hand the API. */
export const API_SETTINGS = [
  'kafkaBrokers',
  'registryUrl',
  'mysqlUrl',
  'topicEvents',
  'topicStages',
  'topicPartitions',
  'topicReplicationFactor',
  'topicMinInsync',
  'topicReplicationCheck',
  'schemasDir',
  'timeZone',
  'maxFuture',
  'apiHost',
  'apiPort',
  'apiToken',
  'ingestToken',
  'ingestRateLimit',
  'apiRateLimit',
] as const satisfies readonly (keyof Config)[];

/** The API's options from those settings (one place for `serve` and `up`). */
export function apiOptions(config: Readonly<Pick<Config, (typeof API_SETTINGS)[number]>>) {
  return {
    brokers: config.kafkaBrokers,
    registryUrl: config.registryUrl,
    mysqlUrl: config.mysqlUrl,
    topicEvents: config.topicEvents,
    topicStages: config.topicStages,
    topicPartitions: config.topicPartitions,
    topicReplicationFactor: config.topicReplicationFactor,
    topicMinInsync: config.topicMinInsync,
    topicReplicationCheck: config.topicReplicationCheck,
    schemasDir: config.schemasDir,
    timeZone: config.timeZone,
    maxFutureMs: config.maxFuture,
    host: config.apiHost,
    port: config.apiPort,
    token: config.apiToken,
    ingestToken: config.ingestToken,
    ingestRateLimit: config.ingestRateLimit,
    requestRateLimit: config.apiRateLimit,
  } satisfies Partial<ApiServerOptions>;
}
