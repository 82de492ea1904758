import type { Admin } from 'kafkajs';
import type { Catalog } from '../../recovery/catalog.js';
import type { Logger } from '../../shared/logger.js';
import * as parse from '../../config/parsers.js';
import { formatCount } from '../../shared/progress.js';
import { defineCommand } from '../command.js';
import { ENRICH_SETTINGS, VERSION_SETTINGS, versionName } from '../job-settings.js';
import { OptionValues } from '../option-values.js';

// kafkajs, mysql2 and the recovery modules are loaded when a command runs, not when the command
// line is parsed: `kappa --help` does not pay for them, `kappa status` only for what it uses.
const operations = () => import('../../recovery/operations.js');

async function withCatalog<T>(mysqlUrl: string, work: (catalog: Catalog) => Promise<T>): Promise<T> {
  const { Catalog } = await import('../../recovery/catalog.js');
  const catalog = await Catalog.open(mysqlUrl);
  try {
    return await work(catalog);
  } finally {
    await catalog.close();
  }
}

async function withAdmin<T>(
  brokers: readonly string[],
  logger: Logger,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const { createKafka } = await import('../../kafka/client.js');
  const admin = createKafka({ brokers, logger, clientId: 'kappa-recovery' }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

export const recover = defineCommand({
  name: 'recover',
  summary: 'Replay the log from offset 0 into a new job version (new tables, new consumer group)',
  settings: [
    // A full chain (`--from`) enriches with the enrichment's settings; its events topic is `--from`.
    ...new Set([
      ...VERSION_SETTINGS.filter((key) => key !== 'sink' && key !== 'mongodbUrl'),
      ...ENRICH_SETTINGS.filter((key) => key !== 'topicEvents'),
    ] as const),
  ],
  options: [
    { flag: '--to <version>', doc: 'the new job version, e.g. v2 (its tables: events_users_v2 …)' },
    { flag: '--from <topic>', doc: 'full-chain replay: enrich this raw topic again into --stages-topic first' },
    {
      flag: '--cutover',
      doc: 'switch readers to the new version as soon as it has caught up with the serving one, and keep it live',
    },
    {
      flag: '--until-caught-up',
      doc: 'exit 0 once every partition is consumed to the end offsets seen at the start (ends on a live log too)',
    },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const version = values.get('to', '--to', versionName);
    if (options['to'] === undefined) values.reject('to', 'kappa recover needs --to <version>, e.g. --to v2');
    values.check();
    if (version === undefined) return 2;
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [{ runRecover }, { aggregateJob, enrichmentRules }] = await Promise.all([
      import('../../recovery/recover.js'),
      import('../job-options.js'),
    ]);
    const from = typeof options['from'] === 'string' ? options['from'] : undefined;
    const fullChain = from === undefined ? undefined : { eventsTopic: from, ...(await enrichmentRules(config)) };
    const result = await runRecover({
      ...aggregateJob(config, version, logger, signal, `kappa-recover-${version}`),
      untilCaughtUp: options['untilCaughtUp'] === true,
      cutover: options['cutover'] === true,
      ...(fullChain === undefined ? {} : { fullChain }),
    });
    print(
      `recover ${version}: ${result.caughtUp ? 'caught up' : result.backlogDone ? 'backlog done' : 'stopped'} at ${formatCount(Number(result.lag.done))} of ${formatCount(Number(result.lag.total))} records (lag ${formatCount(Number(result.lag.lag))}); ${result.metrics.in} events this run, ${result.metrics.late} late`,
    );
    if (result.cutOverFrom !== undefined)
      print(
        `cutover: readers now see ${version}${result.cutOverFrom === null ? '' : ` (was ${result.cutOverFrom}; \`kappa rollback\` switches back)`}`,
      );
    if (options['cutover'] === true && result.cutOverFrom === undefined && !signal.aborted) return 1;
    return options['untilCaughtUp'] === true && !result.backlogDone ? 1 : 0;
  },
});

export const cutoverCommand = defineCommand({
  name: 'cutover',
  summary: 'Switch readers (the events_users/_depts/_ages views, the API) to a caught-up job version',
  settings: ['kafkaBrokers', 'mysqlUrl'],
  options: [
    { flag: '--to <version>', doc: 'the version readers switch to' },
    {
      flag: '--wait <duration>',
      doc: 'if it has not caught up yet, wait up to this long for it (e.g. 2m), then switch (default: refuse at once)',
    },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const to = values.get('to', '--to', versionName);
    if (options['to'] === undefined) values.reject('to', 'kappa cutover needs --to <version>, e.g. --to v2');
    const waitMs = values.get('wait', '--wait', parse.duration('2m'));
    values.check();
    if (to === undefined) return 2;
    const { cutover } = await operations();
    let told = false;
    const result = await withCatalog(config.mysqlUrl, (catalog) =>
      withAdmin(config.kafkaBrokers, logger, (admin) =>
        cutover(catalog, admin, to, {
          waitMs: waitMs ?? 0,
          signal,
          onWaiting: (problem) => {
            if (!told) print(`waiting up to ${options['wait'] as string} for ${to} to catch up: ${problem}`);
            told = true;
            logger.debug({ to, problem }, 'waiting for the version to catch up');
          },
        }),
      ),
    );
    print(
      result.unchanged
        ? `${to} already serves`
        : `cutover: readers now see ${to}${result.from === undefined ? '' : ` (was ${result.from}; \`kappa rollback\` switches back)`}`,
    );
    return 0;
  },
});

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'Switch readers back to the previously serving job version',
  settings: ['mysqlUrl'],
  run: async ({ config, print }) => {
    const { rollback } = await operations();
    const result = await withCatalog(config.mysqlUrl, (catalog) => rollback(catalog));
    print(`rollback: readers now see ${result.to} (was ${result.from ?? 'nothing'})`);
    return 0;
  },
});

export const diffCommand = defineCommand({
  name: 'diff',
  summary:
    'Compare two job versions over the windows closed in both: differing rows, rows only in one, windows not yet closed, late events recovered',
  settings: ['mysqlUrl'],
  args: ['<from>', '<to>'],
  options: [{ flag: '--json', doc: 'print the whole comparison as JSON' }],
  run: async ({ config, args, options, print }) => {
    const values = new OptionValues({ from: args[0], to: args[1] });
    const from = values.get('from', '<from>', versionName);
    const to = values.get('to', '<to>', versionName);
    values.check();
    if (from === undefined || to === undefined) return 2;
    const { diffVersions } = await operations();
    const diff = await withCatalog(config.mysqlUrl, (catalog) => diffVersions(catalog, from, to));
    if (options['json'] === true) {
      print(JSON.stringify(diff));
      return 0;
    }
    print(`diff ${from} → ${to}`);
    for (const [dim, table] of Object.entries(diff.tables)) {
      const change = table.totalTo - table.totalFrom;
      print(
        `  ${dim}: windows closed in both: ${table.differing.length} rows differ, ${table.onlyFrom.length} rows only in ${from}, ${table.onlyTo.length} rows only in ${to}; ` +
          `total ${formatCount(table.totalFrom)} → ${formatCount(table.totalTo)} (${change >= 0 ? '+' : ''}${formatCount(change)})`,
      );
      const open = [
        [to, table.notClosedTo],
        [from, table.notClosedFrom],
      ] as const;
      for (const [version, windows] of open)
        if (windows > 0) print(`    not yet closed in ${version}: ${formatCount(windows)} windows (not compared)`);
    }
    print(
      `  late events: ${formatCount(diff.lateFrom)} in ${from}, ${formatCount(diff.lateTo)} in ${to} → ${formatCount(diff.lateRecovered)} recovered`,
    );
    return 0;
  },
});

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Lag, watermark, late counts and state per job version',
  settings: ['kafkaBrokers', 'mysqlUrl'],
  options: [{ flag: '--json', doc: 'print the versions as JSON' }],
  run: async ({ config, options, logger, print }) => {
    const { versionStatus } = await operations();
    const statuses = await withCatalog(config.mysqlUrl, (catalog) =>
      withAdmin(config.kafkaBrokers, logger, (admin) => versionStatus(catalog, admin)),
    );
    if (options['json'] === true) {
      print(JSON.stringify(statuses));
      return 0;
    }
    if (statuses.length === 0) {
      print('no job versions yet: `kappa aggregate --version v1` creates the first');
      return 0;
    }
    print(
      'version  state        lag        processed  watermark (min)           late  late win     bad  window/slide/watermark  topic',
    );
    for (const status of statuses) {
      const { sizeMs, slideMs, delayMs } = status.settings;
      print(
        [
          `${status.serving ? '*' : ' '}${status.version}`.padEnd(8),
          status.state.padEnd(12),
          formatCount(status.lag).padStart(9),
          formatCount(status.processed).padStart(10),
          ` ${(status.watermark ?? '-').padEnd(25)}`,
          formatCount(status.lateEvents).padStart(7),
          formatCount(status.lateWindows).padStart(8),
          formatCount(status.badRecords).padStart(7),
          `  ${sizeMs / 1_000}s/${slideMs / 1_000}s/${delayMs / 1_000}s`.padEnd(24),
          status.topic,
        ].join(' '),
      );
    }
    print('(* serving)');
    return 0;
  },
});
