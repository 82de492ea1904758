import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { startThrowawayBroker } from '../../src/stack/throwaway-broker.js';
import { ensureMariaDb, MARIADB_ROOT_URL } from '../support/mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    mysqlRootUrl: string;
  }
}

/**
 * Once per run: MariaDB up, and one real Kafka broker on free ports with a throw-away data
 * directory. Test files share the broker but get their own topics and databases (test/support).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The user's real jar cache (KAPPA_CACHE_DIR or ~/.cache/kappa): the jars are fetched once per machine.
  const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
  const [, broker] = await Promise.all([
    ensureMariaDb(),
    startThrowawayBroker({ cacheDir: config.cacheDir, version: config.kafkaVersion, logger: createLogger('warn', 'test-setup') }),
  ]);
  project.provide('kafkaBrokers', broker.brokers);
  project.provide('mysqlRootUrl', MARIADB_ROOT_URL);
  return () => broker.stop();
}
