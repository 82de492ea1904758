import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { startMongoStandIn } from '../../src/stack/mongo-stand-in.js';
import { startThrowawayBroker } from '../../src/stack/throwaway-broker.js';
import { ensureMariaDb, MARIADB_ROOT_URL } from '../support/mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    mysqlRootUrl: string;
    /** The MongoDB stand-in (mongo-java-server), `mongodb://127.0.0.1:<port>` without a database. */
    mongodbRootUrl: string;
    /** How to start the run's broker again after stopping it (the chaos suite restarts it). */
    kafkaRestart: {
      stateDir: string;
      cacheDir: string;
      version: string;
      port: number;
      controllerPort: number;
      heap: string;
    };
  }
}

/**
 * Once per run: MariaDB up, one real Kafka broker on free ports with a throw-away data
 * directory, and the MongoDB stand-in (mongo-java-server, in memory). Test files share them but
 * get their own topics and databases (test/support).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The user's real jar cache (KAPPA_CACHE_DIR or ~/.cache/kappa): the jars are fetched once per machine.
  const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
  const logger = createLogger('warn', 'test-setup');
  const [mariadb, broker, mongo] = await Promise.allSettled([
    ensureMariaDb(),
    startThrowawayBroker({ cacheDir: config.cacheDir, version: config.kafkaVersion, logger }),
    startMongoStandIn({ cacheDir: config.cacheDir, logger }),
  ]);
  if (mariadb.status === 'rejected' || broker.status === 'rejected' || mongo.status === 'rejected') {
    // Stop what did start: nothing may outlive the run.
    if (broker.status === 'fulfilled') await broker.value.stop();
    if (mongo.status === 'fulfilled') await mongo.value.stop();
    throw [mariadb, broker, mongo].find((result) => result.status === 'rejected')?.reason;
  }
  project.provide('kafkaBrokers', broker.value.brokers);
  project.provide('mysqlRootUrl', MARIADB_ROOT_URL);
  project.provide('mongodbRootUrl', mongo.value.url);
  project.provide('kafkaRestart', broker.value.restart);
  return async () => {
    await Promise.all([broker.value.stop(), mongo.value.stop()]);
  };
}
