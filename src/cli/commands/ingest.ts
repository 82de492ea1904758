import { join } from 'node:path';
import * as parse from '../../config/parsers.js';
import { defineCommand } from '../command.js';
import { OptionValues } from '../option-values.js';

export const ingest = defineCommand({
  name: 'ingest',
  summary:
    'Generate Fluentd-style dummy events into the events topic (disk-buffered, ids reserved in blocks, exactly once)',
  settings: [
    'kafkaBrokers',
    'registryUrl',
    'mysqlUrl',
    'topicEvents',
    'topicStages',
    'topicPartitions',
    'topicReplicationFactor',
    'topicMinInsync',
    'topicReplicationCheck',
    'timeZone',
    'maxFuture',
    'stateDir',
    'schemasDir',
  ],
  options: [
    { flag: '--rate <n>', doc: 'events per second, 0 = as fast as possible (default 10)' },
    { flag: '--count <n>', doc: 'stop after this many events (default: run until Ctrl-C)' },
    {
      flag: '--template <json>',
      doc: 'JSON merged into every record (default {"hello":"ssm-seoul"}); a "time" fixes every event\'s time',
    },
    { flag: '--late-fraction <f>', doc: 'fraction of events whose time is shifted back, 0 to 1 (default 0)' },
    { flag: '--late-by <duration>', doc: 'how far late events are shifted back (default 30s)' },
    { flag: '--seed <n>', doc: 'seed of the late-event choice, for reproducible runs (default: random)' },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const rate = values.get('rate', '--rate', parse.integer(0, 10_000_000, 100), '10');
    const count = values.get('count', '--count', parse.integer(1, Number.MAX_SAFE_INTEGER, 10_000));
    const template = values.get('template', '--template', parse.jsonObject, '{"hello":"ssm-seoul"}');
    const lateFraction = values.get('lateFraction', '--late-fraction', parse.fraction, '0');
    const lateByMs = values.get('lateBy', '--late-by', parse.duration('30s'), '30s');
    const seed = values.get(
      'seed',
      '--seed',
      parse.integer(0, 2 ** 31 - 1, 1),
      String(Math.floor(Math.random() * 2 ** 31)),
    );

    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [{ checkTemplate }, { runIngest }, { createKafka }, { loadSchemaHistories }] = await Promise.all([
      import('../../ingest/event-template.js'),
      import('../../ingest/ingest-run.js'),
      import('../../kafka/client.js'),
      import('../../registry/schema-history.js'),
    ]);
    // The template must fit the events schema the generator writes (its latest version).
    const latest = (await loadSchemaHistories(config.schemasDir))
      .find((history) => history.name === 'events')
      ?.versions.at(-1);
    const checked =
      template === undefined || latest === undefined
        ? undefined
        : checkTemplate(template, latest.schema, config.timeZone, {
            now: Date.now(),
            maxFutureMs: config.maxFuture,
          });
    if (checked?.ok === false) values.reject('template', checked.problem);
    values.check();
    if (
      rate === undefined ||
      template === undefined ||
      lateFraction === undefined ||
      lateByMs === undefined ||
      seed === undefined
    )
      return 2;

    logger.info({ rate, count, lateFraction, lateByMs, seed }, 'ingest options');
    const summary = await runIngest({
      kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId: 'kappa-ingest' }),
      registryUrl: config.registryUrl,
      topics: config,
      schemasDir: config.schemasDir,
      rate,
      ...(count === undefined ? {} : { count }),
      template,
      ...(checked?.ok === true && checked.fixedTime !== undefined ? { fixedTime: checked.fixedTime } : {}),
      timeZone: config.timeZone,
      lateFraction,
      lateByMs,
      seed,
      bufferDir: join(config.stateDir, 'ingest', config.topicEvents),
      mysqlUrl: config.mysqlUrl,
      logger,
      signal,
    });
    print(
      `ingest: ${summary.sent} events sent to ${config.topicEvents} (ids ${summary.firstId}..${summary.lastId})${summary.buffered > 0 ? `, ${summary.buffered} left in the disk buffer` : ''}`,
    );
    return summary.buffered > 0 ? 1 : 0;
  },
});
