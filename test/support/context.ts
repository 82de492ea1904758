import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Admin } from 'kafkajs';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopics } from '../../src/kafka/ensure-topics.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';

export interface TestContext {
  /** Bootstrap brokers of the run's shared broker. */
  readonly brokers: readonly string[];
  /** Unique per test file: prefix every topic and consumer group with it. */
  readonly prefix: string;
  /** This file's own database, created before its tests and dropped after. */
  readonly database: string;
  readonly mysqlUrl: string;
  /** This file's own database on the MongoDB stand-in (same name as the MySQL one). */
  readonly mongodbUrl: string;
  readonly logger: Logger;
  topic(name: string): string;
}

/**
 * Gives a test file its own topic names and database on the shared broker and MariaDB, so files
 * can run in parallel and never see each other's data. Call once at the top of a test file.
 */
export function useTestContext(label: string, brokers?: () => readonly string[]): TestContext {
  const id = `${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const root = inject('mysqlRootUrl');
  const database = `kappa_t_${id}`.slice(0, 64);
  const shared = inject('kafkaBrokers');
  const context: TestContext = {
    // A file may bring its own brokers (a cluster it starts in a beforeAll): read when used.
    get brokers() {
      return brokers?.() ?? shared;
    },
    prefix: `t-${id}`,
    database,
    mysqlUrl: `${root}/${database}`,
    mongodbUrl: `${inject('mongodbRootUrl')}/${database}`,
    logger: createLogger('error', `test-${label}`),
    topic: (name) => `t-${id}.${name}`,
  };

  beforeAll(async () => {
    const connection = await createConnection({ uri: root });
    await connection.query(`CREATE DATABASE \`${database}\``);
    await connection.end();
  });
  afterAll(async () => {
    const connection = await createConnection({ uri: root });
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.end();
    // Topics are left to the throw-away broker, which the global teardown deletes with its data.
  });
  return context;
}

/** A kafkajs client on the shared broker for assertions (not the code under test). */
export function testKafka(context: TestContext) {
  return createKafka({ brokers: context.brokers, logger: context.logger, clientId: context.prefix });
}

/**
 * Creates a plain test topic and waits for its leaders through kappa's own ensureTopics (kafkajs's
 * `waitForLeaders` fails at once with UNKNOWN_TOPIC_OR_PARTITION on a busy broker).
 */
export async function createTestTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await ensureTopics(
    admin,
    [{ name: topic, partitions, replicationFactor: 1, config: {} }],
    createLogger('error', 'test-topics'),
  );
}
