import type { FastifyInstance } from 'fastify';
import { createKafka } from '../kafka/client.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isLoopback } from '../shared/loopback.js';
import { buildRegistryApp } from './http-app.js';
import { openKafkaSchemaLog, type KafkaSchemaLog } from './kafka-schema-log.js';
import { RegistryService } from './registry-service.js';
import type { Replication } from '../kafka/replication.js';

export interface RegistryServerOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly replicationFactor: Replication;
  readonly host: string;
  readonly port: number;
  /** Bearer token of every write; required when `host` is not a loopback address. */
  readonly token?: string;
  readonly logger: Logger;
}

export interface RunningRegistry {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly service: RegistryService;
  close(): Promise<void>;
}

/**
 * Starts a schema registry: reads its log from offset 0 (so every id ever given resolves again
 * after a restart), then serves the REST API. Several may run on one topic; they agree on ids.
 */
export async function startRegistry(options: RegistryServerOptions): Promise<RunningRegistry> {
  const token = options.token ?? '';
  const loopback = isLoopback(options.host);
  if (!loopback && token === '')
    throw new ConfigError(
      'registryToken',
      `invalid KAPPA_REGISTRY_TOKEN: required when the schema registry listens on ${options.host} (not a loopback address), or anyone who reaches the port could register, change or delete schemas; set one, e.g. KAPPA_REGISTRY_TOKEN=$(openssl rand -hex 16), or put it in a file named by KAPPA_REGISTRY_TOKEN_FILE`,
    );
  const kafka = createKafka({ brokers: options.brokers, logger: options.logger, clientId: 'kappa-registry' });
  // The service must exist before the consumer delivers the first record; the log it writes to
  // exists once the topic is opened, before any request can arrive.
  const opened: { log?: KafkaSchemaLog } = {};
  const whenOpen = (): KafkaSchemaLog => {
    if (opened.log === undefined) throw new Error('the schema log is not open yet');
    return opened.log;
  };
  const service = new RegistryService({
    append: (record) => whenOpen().append(record),
    endOffset: () => whenOpen().endOffset(),
  });
  const log = await openKafkaSchemaLog({
    kafka,
    topic: options.topic,
    replicationFactor: options.replicationFactor,
    logger: options.logger,
    onRecord: (offset, record) => service.onRecord(offset, record),
  });
  opened.log = log;
  try {
    await service.sync();
    const app = buildRegistryApp({
      service,
      logger: options.logger,
      identity: { kafkaClusterId: log.clusterId },
      writeToken: token,
      loopbackHostsOnly: loopback,
    });
    const url = await app.listen({ host: options.host, port: options.port });
    options.logger.info(
      { url, topic: options.topic, subjects: service.state.subjectNames().length },
      'schema registry listening',
    );
    return {
      url,
      app,
      service,
      close: async () => {
        await app.close();
        await log.close();
      },
    };
  } catch (error) {
    await log.close();
    throw error;
  }
}
