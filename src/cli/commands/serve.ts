import { startApi } from '../../api/server.js';
import { defineCommand } from '../command.js';
import { untilAborted } from '../../shared/abort.js';

export const serve = defineCommand({
  name: 'serve',
  summary: 'Serve the query API, HTTP ingest, metrics (/metrics), OpenAPI (/docs) and the dashboard (/)',
  settings: [
    'kafkaBrokers',
    'registryUrl',
    'mysqlUrl',
    'topicEvents',
    'topicStages',
    'topicPartitions',
    'topicReplicationFactor',
    'schemasDir',
    'timeZone',
    'apiHost',
    'apiPort',
    'apiToken',
    'window',
    'slide',
    'latenessDelays',
    'latenessTarget',
    'ingestToken',
    'ingestRateLimit',
  ],
  run: async ({ config, logger, signal, print }) => {
    const api = await startApi({
      brokers: config.kafkaBrokers,
      registryUrl: config.registryUrl,
      mysqlUrl: config.mysqlUrl,
      topicEvents: config.topicEvents,
      topicStages: config.topicStages,
      topicPartitions: config.topicPartitions,
      topicReplicationFactor: config.topicReplicationFactor,
      schemasDir: config.schemasDir,
      timeZone: config.timeZone,
      host: config.apiHost,
      port: config.apiPort,
      token: config.apiToken,
      ingestToken: config.ingestToken,
      ingestRateLimit: config.ingestRateLimit,
      logger,
      lateness: {
        windows: { sizeMs: config.window, slideMs: config.slide },
        delays: config.latenessDelays,
        target: config.latenessTarget,
      },
    });
    print(`kappa API on ${api.url} — dashboard ${api.url}/, OpenAPI ${api.url}/docs`);
    await untilAborted(signal);
    await api.close();
    return 0;
  },
});
