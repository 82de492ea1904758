import { ConfigError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';

export const latenessCommand = defineCommand({
  name: 'lateness',
  summary: 'How late events are in the stages log, and how many each watermark delay would count late',
  settings: [
    'kafkaBrokers',
    'registryUrl',
    'topicStages',
    'schemasDir',
    'timeZone',
    'maxFuture',
    'window',
    'slide',
    'latenessDelays',
    'latenessTarget',
  ],
  options: [{ flag: '--json', doc: 'print the report as JSON' }],
  run: async ({ config, options, logger, signal, print }) => {
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [
      { validateSettings },
      { createKafka },
      { LatenessAnalyser },
      { formatLateness, toDocument },
      { readStagesLog },
    ] = await Promise.all([
      import('../../model/window-settings.js'),
      import('../../kafka/client.js'),
      import('../../lateness/analyser.js'),
      import('../../lateness/format.js'),
      import('../../lateness/log-reader.js'),
    ]);
    const { Progress } = await import('../../shared/progress.js');
    const windows = { sizeMs: config.window, slideMs: config.slide };
    const problem = validateSettings({ ...windows, delayMs: 0 });
    if (problem !== undefined) throw new ConfigError('slide', `invalid --window/--slide: ${problem}`);
    const analyser = new LatenessAnalyser(windows);
    const progress = new Progress(logger, 'lateness');
    const started = Date.now();
    const read = await readStagesLog(
      analyser,
      {
        kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId: 'kappa-lateness' }),
        registryUrl: config.registryUrl,
        schemasDir: config.schemasDir,
        topic: config.topicStages,
        timeZone: config.timeZone,
        maxFutureMs: config.maxFuture,
        logger,
      },
      {
        signal,
        onProgress: (done, total) =>
          progress.update(
            { done: Number(done), total: Number(total) },
            `${done} / ${total} records · ${Math.round(Number(done) / Math.max(0.001, (Date.now() - started) / 1_000))} records/s`,
          ),
      },
    );
    progress.done();
    const document = toDocument(
      analyser.report(config.latenessDelays, config.latenessTarget),
      config.topicStages,
      read.offsets,
    );
    if (options['json'] === true) print(JSON.stringify(document));
    else for (const line of formatLateness(document)) print(line);
    return read.complete ? 0 : 1;
  },
});
