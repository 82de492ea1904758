import { createKafka } from '../../kafka/client.js';
import { runEnrich } from '../../stages/enrich/run.js';
import { loadEnrichmentTables } from '../../stages/enrich/static-tables.js';
import { defineCommand } from '../command.js';

export const enrichCommand = defineCommand({
  name: 'enrich',
  summary: 'Enrich events into events_stages inside Kafka transactions (exactly once; bad records to events.dlq)',
  settings: [
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
    'enrichTransactionMs',
    'enrichTransactionRecords',
  ],
  run: async ({ config, logger, signal, print }) => {
    // The tables first: a malformed file is a start-up error naming file and line.
    const tables = await loadEnrichmentTables(config);
    const metrics = await runEnrich({
      kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId: 'kappa-enrich' }),
      registryUrl: config.registryUrl,
      topics: config,
      schemasDir: config.schemasDir,
      tables,
      badRecords: config.badRecords,
      transactions: { maxMs: config.enrichTransactionMs, maxRecords: config.enrichTransactionRecords },
      logger,
      signal,
    });
    print(`enrich: ${metrics.in} in, ${metrics.out} out, ${metrics.dlq} dead-lettered, ${metrics.skipped} skipped`);
    return 0;
  },
});
