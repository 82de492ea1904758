import { runEnrich } from '../../stages/enrich/run.js';
import { defineCommand } from '../command.js';
import { ENRICH_SETTINGS, enrichJob } from '../job-options.js';

export const enrichCommand = defineCommand({
  name: 'enrich',
  summary: 'Enrich events into events_stages inside Kafka transactions (exactly once; bad records to events.dlq)',
  settings: [...ENRICH_SETTINGS],
  run: async ({ config, logger, signal, print }) => {
    const metrics = await runEnrich(await enrichJob(config, logger, signal, 'kappa-enrich'));
    print(`enrich: ${metrics.in} in, ${metrics.out} out, ${metrics.dlq} dead-lettered, ${metrics.skipped} skipped`);
    return 0;
  },
});
