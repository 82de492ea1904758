import { defineCommand } from '../command.js';
import { ENRICH_SETTINGS } from '../job-settings.js';

export const enrichCommand = defineCommand({
  name: 'enrich',
  summary: 'Enrich events into events_stages inside Kafka transactions (exactly once; bad records to events.dlq)',
  settings: [...ENRICH_SETTINGS],
  run: async ({ config, logger, signal, print }) => {
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [{ runEnrich }, { enrichJob }] = await Promise.all([
      import('../../stages/enrich/run.js'),
      import('../job-options.js'),
    ]);
    const metrics = await runEnrich(await enrichJob(config, logger, signal, 'kappa-enrich'));
    print(`enrich: ${metrics.in} in, ${metrics.out} out, ${metrics.dlq} dead-lettered, ${metrics.skipped} skipped`);
    return 0;
  },
});
