import * as parse from '../../config/parsers.js';
import { defineCommand } from '../command.js';
import { VERSION_SETTINGS, versionName } from '../job-settings.js';
import { OptionValues } from '../option-values.js';

export const aggregate = defineCommand({
  name: 'aggregate',
  summary:
    'Aggregate events_stages into event-time windows in MySQL (or MongoDB), as one job version (exactly-once effect)',
  settings: [...VERSION_SETTINGS],
  options: [
    { flag: '--version <name>', doc: 'job version, v + digits (e.g. v1): names the consumer group and the tables' },
    { flag: '--publish-late', doc: 'also publish late events to <stages topic>.late (at least once)' },
    {
      flag: '--idle-close <duration>',
      doc: "opt-in: close a partition's windows after this long without data (rows marked idle_closed)",
    },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const version = values.get('version', '--version', versionName, 'v1');
    const idleCloseMs = values.get('idleClose', '--idle-close', parse.duration('30s'));
    values.check();
    if (version === undefined) return 2;
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [{ runAggregate }, { aggregateJob }] = await Promise.all([
      import('../../aggregates/run.js'),
      import('../job-options.js'),
    ]);
    const metrics = await runAggregate({
      ...aggregateJob(config, version, logger, signal, `kappa-aggregate-${version}`),
      publishLate: options['publishLate'] === true,
      ...(idleCloseMs === undefined ? {} : { idleCloseMs }),
    });
    print(
      `aggregate ${version}: ${metrics.in} events, ${metrics.late} late, ${metrics.rows} window rows written, ${metrics.bad} bad (dead-lettered)`,
    );
    return 0;
  },
});
