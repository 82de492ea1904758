import { defineCommand } from '../command.js';
import { untilAborted } from '../../shared/abort.js';

export const registry = defineCommand({
  name: 'registry',
  summary: 'Run the bundled schema registry (Confluent REST API, schemas in a Kafka topic) in the foreground',
  settings: ['kafkaBrokers', 'registryHost', 'registryPort', 'registryTopic', 'topicReplicationFactor'],
  run: async ({ config, logger, signal, print }) => {
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const { startRegistry } = await import('../../registry/server.js');
    const running = await startRegistry({
      brokers: config.kafkaBrokers,
      topic: config.registryTopic,
      replicationFactor: config.topicReplicationFactor,
      host: config.registryHost,
      port: config.registryPort,
      token: config.registryToken,
      logger,
    });
    print(`schema registry: listening on ${running.url} (schemas in topic ${config.registryTopic})`);
    await untilAborted(signal);
    await running.close();
    return 0;
  },
});
