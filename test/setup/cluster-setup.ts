import type { TestProject } from 'vitest/node';
import { ensureMariaDb, MARIADB_ROOT_URL } from '../support/mariadb.js';

/**
 * The `cluster` project's setup: MariaDB only. Its test starts its own three-node cluster, so the
 * shared broker and the MongoDB stand-in of global-setup.ts would only take memory from it.
 */
export default async function setup(project: TestProject): Promise<void> {
  await ensureMariaDb();
  project.provide('mysqlRootUrl', MARIADB_ROOT_URL);
  project.provide('kafkaBrokers', []);
  // Not started: the test context builds a MongoDB URL from it, which nothing here uses.
  project.provide('mongodbRootUrl', 'mongodb://127.0.0.1:1');
}
