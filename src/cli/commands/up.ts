import { join } from 'node:path';
import type { AggregateMetrics } from '../../aggregates/run.js';
import type { Config } from '../../config/settings.js';
import { KAFKA_SECURITY_SETTINGS } from '../../kafka/security.js';
import * as parse from '../../config/parsers.js';
import { API_SETTINGS, apiOptions } from '../api-options.js';
import { defineCommand } from '../command.js';
import { ENRICH_SETTINGS, VERSION_SETTINGS } from '../job-settings.js';
import { OptionValues } from '../option-values.js';
import { STACK_SETTINGS } from './stack.js';
import { untilAborted } from '../../shared/abort.js';

export const up = defineCommand({
  name: 'up',
  // Stages get 45 s for their last commits, then the API, the registry and the broker (30 s each at most).
  stopGraceMs: 150_000,
  summary:
    "Run everything on this machine: broker, registry, migrations, generator, enrichment, the serving version's aggregator, API",
  // Each setting once (a version's and the API's overlap): v1 writes MySQL, which the API reads.
  settings: [
    ...new Set([
      ...VERSION_SETTINGS.filter((key) => key !== 'sink' && key !== 'mongodbUrl'),
      ...API_SETTINGS,
      ...STACK_SETTINGS,
      ...ENRICH_SETTINGS,
      // Read by every Kafka client anyway; named here because the registry child gets them too.
      ...KAFKA_SECURITY_SETTINGS,
    ] as const),
  ],
  options: [
    { flag: '--rate <n>', doc: 'events per second of the generator (default 20)' },
    { flag: '--late-fraction <f>', doc: 'fraction of generated events made late, to watch recovery (default 0.05)' },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const rate = values.get('rate', '--rate', parse.integer(1, 1_000_000, 100), '20');
    const lateFraction = values.get('lateFraction', '--late-fraction', parse.fraction, '0.05');
    values.check();
    if (rate === undefined || lateFraction === undefined) return 2;
    // What `kappa up` runs, loaded when it runs: `kappa up --help` and the other commands do not pay for it.
    const [
      { ensureDatabase },
      { runAggregate },
      { runIngest },
      { createKafka },
      { ensureStack },
      { newEnrichMetrics, runEnrich },
      { StageSupervisor },
      { aggregateJob, enrichJob },
    ] = await Promise.all([
      import('../../aggregates/migrations.js'),
      import('../../aggregates/run.js'),
      import('../../ingest/ingest-run.js'),
      import('../../kafka/client.js'),
      import('../../stack/local-stack.js'),
      import('../../stages/enrich/run.js'),
      import('../../stages/runtime/supervisor.js'),
      import('../job-options.js'),
    ]);

    const stopLocal: (() => Promise<unknown>)[] = [];
    try {
      // 1. Kafka and the registry: the configured ones when they answer, else the local stack.
      stopLocal.unshift(...(await ensureStack(config, logger, print)));
      // 2. MySQL must be there (kappa does not run a database server); migrations run with the stages.
      await ensureDatabase(config.mysqlUrl);

      // 3. The pipeline, in this process, and the API. Stages stop before the broker does: each
      // finishes its transaction or commit and disconnects (45 s at most).
      const stages = new StageSupervisor({ logger, stopGraceMs: 45_000 });
      stopLocal.unshift(() => stages.stop());
      const enrichment = await enrichJob(config, logger.child({ stage: 'enrich' }), stages.signal, 'kappa-enrich');
      const enrichMetrics = newEnrichMetrics();
      const live = await liveVersionsOf(config);
      const aggregateMetrics: Record<string, AggregateMetrics> = Object.fromEntries(
        live.map((entry) => [entry.version, { in: 0, late: 0, rows: 0, bad: 0 }]),
      );
      stages.start('enrich', () => runEnrich({ ...enrichment, metrics: enrichMetrics }));
      for (const entry of live)
        stages.start(`aggregate ${entry.version}`, (stop) =>
          runAggregate({
            // The version's recorded settings (the aggregator refuses any other value).
            ...aggregateJob(
              {
                ...config,
                window: entry.settings.sizeMs,
                slide: entry.settings.slideMs,
                watermarkDelay: entry.settings.delayMs,
                dims: entry.dims,
                topicStages: entry.topic,
              },
              entry.version,
              logger.child({ stage: 'aggregate', version: entry.version }),
              stop,
              `kappa-aggregate-${entry.version}`,
            ),
            metrics: aggregateMetrics[entry.version] ?? { in: 0, late: 0, rows: 0, bad: 0 },
          }),
        );
      stages.start('ingest', (stop) =>
        runIngest({
          kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId: 'kappa-ingest' }),
          registryUrl: config.registryUrl,
          topics: config,
          schemasDir: config.schemasDir,
          rate,
          template: { hello: 'ssm-seoul' },
          timeZone: config.timeZone,
          lateFraction,
          lateByMs: 30_000,
          seed: Math.floor(Math.random() * 2 ** 31),
          bufferDir: join(config.stateDir, 'ingest', config.topicEvents),
          mysqlUrl: config.mysqlUrl,
          logger: logger.child({ stage: 'ingest' }),
          signal: stop,
        }),
      );
      // Loaded when needed: Fastify and its plugins take seconds to load, which every other command would pay.
      const { startApi } = await import('../../api/server.js');
      const api = await startApi({
        ...apiOptions(config),
        logger: logger.child({ stage: 'api' }),
        stages: { enrich: enrichMetrics, aggregates: aggregateMetrics },
      });
      stopLocal.unshift(() => api.close());
      print(
        `kappa is up: dashboard ${api.url}/ · API ${api.url}/docs · metrics ${api.url}/metrics — Ctrl-C stops everything`,
      );
      print(`aggregating ${live.map((entry) => entry.version).join(', ')} (the serving version first)`);

      await Promise.race([stages.failed, untilAborted(signal)]);
      print('stopping…');
      return 0;
    } finally {
      for (const stop of stopLocal)
        await stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping failed'));
    }
  },
});

/**
 * The serving version (v1 on a fresh machine), caught-up candidates and shadows, each with the
 * settings it was created with; a retired version is not fed any more.
 */
async function liveVersionsOf(
  config: Pick<Config, 'mysqlUrl' | 'window' | 'slide' | 'watermarkDelay' | 'dims' | 'topicStages'>,
) {
  const [{ Catalog }, { liveVersions }] = await Promise.all([
    import('../../recovery/catalog.js'),
    import('../../recovery/live-versions.js'),
  ]);
  const catalog = await Catalog.open(config.mysqlUrl);
  try {
    const [records, serving] = await Promise.all([catalog.versions(), catalog.serving()]);
    return liveVersions(records, serving, {
      settings: { sizeMs: config.window, slideMs: config.slide, delayMs: config.watermarkDelay },
      dims: config.dims,
      topic: config.topicStages,
    });
  } finally {
    await catalog.close();
  }
}
