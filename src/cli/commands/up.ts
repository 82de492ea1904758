import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AggregateMetrics } from '../../aggregates/run.js';
import { KappaError } from '../../shared/errors.js';
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
      { Catalog },
      { liveVersions },
      { runIngest },
      { createKafka },
      { isBrokerReachable, startBroker, stopBroker },
      { registryAnswers, startRegistryProcess, stopRegistryProcess },
      { newEnrichMetrics, runEnrich },
      { aggregateJob, enrichJob },
    ] = await Promise.all([
      import('../../aggregates/migrations.js'),
      import('../../aggregates/run.js'),
      import('../../recovery/catalog.js'),
      import('../../recovery/live-versions.js'),
      import('../../ingest/ingest-run.js'),
      import('../../kafka/client.js'),
      import('../../stack/broker.js'),
      import('../../stack/registry-process.js'),
      import('../../stages/enrich/run.js'),
      import('../job-options.js'),
    ]);

    const stopLocal: (() => Promise<unknown>)[] = [];
    try {
      // 1. Kafka and the registry: the configured ones when they answer, else the local stack.
      const localBroker = `127.0.0.1:${config.stackKafkaPort}`;
      if (!(await isBrokerReachable(config.kafkaBrokers))) {
        if (config.kafkaBrokers.length !== 1 || config.kafkaBrokers[0] !== localBroker) {
          throw new KappaError(
            'KAPPA_BROKER_START_FAILED',
            `Kafka at ${config.kafkaBrokers.join(',')} does not answer (and is not the local stack's ${localBroker}, which kappa up would start)`,
          );
        }
        print(`starting the local Kafka broker on ${localBroker} (first run: fetching the jars takes a minute)…`);
        const broker = await startBroker({
          stateDir: config.stateDir,
          cacheDir: config.cacheDir,
          version: config.kafkaVersion,
          port: config.stackKafkaPort,
          controllerPort: config.stackControllerPort,
          heap: config.stackKafkaHeap,
          startTimeoutMs: config.stackStartTimeout,
          logger,
        });
        if (!broker.alreadyRunning)
          stopLocal.unshift(() => stopBroker({ stateDir: config.stateDir, timeoutMs: 30_000, logger }));
      }
      if (!(await registryAnswers(config.registryUrl))) {
        const localRegistry = `http://${config.registryHost}:${config.registryPort}`;
        if (config.registryUrl !== localRegistry)
          throw new KappaError(
            'KAPPA_REGISTRY_START_FAILED',
            `the schema registry at ${config.registryUrl} does not answer (and is not the local ${localRegistry}, which kappa up would start)`,
          );
        const registry = await startRegistryProcess({
          stateDir: config.stateDir,
          brokers: config.kafkaBrokers,
          host: config.registryHost,
          port: config.registryPort,
          topic: config.registryTopic,
          replicationFactor: config.topicReplicationFactor,
          startTimeoutMs: config.stackStartTimeout,
          token: config.registryToken,
          // The brokers kappa up was given, with their TLS / SASL (flags included) — not the local stack's.
          security: config,
          logger,
        });
        if (!registry.alreadyRunning) stopLocal.unshift(() => stopRegistryProcess(config.stateDir, 30_000));
      }
      // 2. MySQL must be there (kappa does not run a database server); migrations run with the stages.
      await ensureDatabase(config.mysqlUrl);

      // 3. The pipeline, in this process, and the API.
      const stages = new AbortController();
      const kafka = (clientId: string) => createKafka({ brokers: config.kafkaBrokers, logger, clientId });
      const topics = {
        topicEvents: config.topicEvents,
        topicStages: config.topicStages,
        topicPartitions: config.topicPartitions,
        topicReplicationFactor: config.topicReplicationFactor,
        topicMinInsync: config.topicMinInsync,
        topicReplicationCheck: config.topicReplicationCheck,
      };
      const enrichment = await enrichJob(config, logger.child({ stage: 'enrich' }), stages.signal, 'kappa-enrich');
      const enrichMetrics = newEnrichMetrics();
      // The serving version's aggregator (v1 on a fresh machine), caught-up candidates and shadows, each
      // with the settings it was created with; a retired version is not fed any more.
      const catalog = await Catalog.open(config.mysqlUrl);
      const live = await Promise.all([catalog.versions(), catalog.serving()])
        .then(([records, serving]) =>
          liveVersions(records, serving, {
            settings: { sizeMs: config.window, slideMs: config.slide, delayMs: config.watermark },
            dims: config.dims,
            topic: config.topicStages,
          }),
        )
        .finally(() => catalog.close());
      const aggregateMetrics: Record<string, AggregateMetrics> = Object.fromEntries(
        live.map((entry) => [entry.version, { in: 0, late: 0, rows: 0, bad: 0 }]),
      );
      const running: Promise<unknown>[] = [];
      const failed = new Promise<never>((_, reject) => {
        const watch = (name: string, work: Promise<unknown>) => {
          running.push(work.catch(() => undefined));
          return work.then(
            () => (stages.signal.aborted ? undefined : reject(new Error(`${name} stopped unexpectedly`))),
            (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
          );
        };
        void watch('enrich', runEnrich({ ...enrichment, metrics: enrichMetrics }));
        for (const entry of live)
          void watch(
            `aggregate ${entry.version}`,
            runAggregate({
              // The version's recorded settings (the aggregator refuses any other value).
              ...aggregateJob(
                {
                  ...config,
                  window: entry.settings.sizeMs,
                  slide: entry.settings.slideMs,
                  watermark: entry.settings.delayMs,
                  dims: entry.dims,
                  topicStages: entry.topic,
                },
                entry.version,
                logger.child({ stage: 'aggregate', version: entry.version }),
                stages.signal,
                `kappa-aggregate-${entry.version}`,
              ),
              metrics: aggregateMetrics[entry.version] ?? { in: 0, late: 0, rows: 0, bad: 0 },
            }),
          );
        void watch(
          'ingest',
          runIngest({
            kafka: kafka('kappa-ingest'),
            registryUrl: config.registryUrl,
            topics,
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
            signal: stages.signal,
          }),
        );
      });
      failed.catch(() => undefined);
      // Stages stop before the broker does: each finishes its transaction or commit and disconnects.
      const stopStages = async () => {
        stages.abort();
        await Promise.race([Promise.all(running), sleep(45_000)]);
      };
      stopLocal.unshift(stopStages);
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

      await Promise.race([failed, untilAborted(signal)]);
      print('stopping…');
      return 0;
    } finally {
      for (const stop of stopLocal)
        await stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping failed'));
    }
  },
});
