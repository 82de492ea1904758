import { API_SETTINGS, apiOptions } from '../api-options.js';
import { defineCommand } from '../command.js';
import { untilAborted } from '../../shared/abort.js';

export const serve = defineCommand({
  name: 'serve',
  summary: 'Serve the query API, HTTP ingest, metrics (/metrics), OpenAPI (/docs) and the dashboard (/)',
  settings: [...API_SETTINGS, 'window', 'slide', 'latenessDelays', 'latenessTarget'],
  run: async ({ config, logger, signal, print }) => {
    // Loaded when needed: Fastify and its plugins take seconds to load, which every other command would pay.
    const { startApi } = await import('../../api/server.js');
    const api = await startApi({
      ...apiOptions(config),
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
