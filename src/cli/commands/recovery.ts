import type { Admin } from 'kafkajs';
import type { Catalog } from '../../recovery/catalog.js';
import type { Logger } from '../../shared/logger.js';
import * as parse from '../../config/parsers.js';
import { formatCount } from '../../shared/progress.js';
import { defineCommand } from '../command.js';
import { EXPLAIN_SETTINGS, printExplainedDiff, requireExplained, withExplainContext } from './explain.js';
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
      flag: '--shadow',
      doc: 'once caught up, keep the new version live beside the serving one as a shadow (compared by kappa diff and the dashboard, not served) until cutover or Ctrl-C',
    },
    {
      flag: '--until-caught-up',
      doc: 'exit 0 once every partition is consumed to the end offsets seen at the start (ends on a live log too)',
    },
    {
      flag: '--plan',
      doc: 'change nothing in the pipeline: read the log once and print records per partition, schema ids, dead letters, rows, bytes, late events recovered and the estimated duration (recorded for the dashboard; with --from, for the full chain)',
    },
    { flag: '--json', doc: 'with --plan: print the plan as JSON' },
    {
      flag: '--allow-dead-letters',
      doc: 'replay even when the log holds schema ids the registry does not know (their records are dead-lettered)',
    },
  ],
  run: async ({ config, options, logger, signal, print }) => {
    const values = new OptionValues(options);
    const version = values.get('to', '--to', versionName);
    if (options['to'] === undefined) values.reject('to', 'kappa recover needs --to <version>, e.g. --to v2');
    if (options['shadow'] === true && (options['cutover'] === true || options['untilCaughtUp'] === true))
      values.reject(
        'shadow',
        '--shadow keeps the version running beside the serving one: leave out --cutover and --until-caught-up (cut over later with kappa cutover)',
      );
    values.check();
    if (version === undefined) return 2;
    // Loaded when run, not when the command line is parsed: `kappa --help` and the other commands do not pay for them.
    const [{ runRecover }, { aggregateJob, enrichmentRules }] = await Promise.all([
      import('../../recovery/recover.js'),
      import('../job-options.js'),
    ]);
    const from = typeof options['from'] === 'string' ? options['from'] : undefined;
    if (options['plan'] === true) {
      const [{ planReplay, planKey, plannedFigures }, { describePlan }] = await Promise.all([
        import('../../recovery/replay-plan.js'),
        import('../../recovery/plan-format.js'),
      ]);
      const job = aggregateJob(config, version, logger, signal, `kappa-plan-${version}`);
      const startupMs = process.uptime() * 1_000;
      const fullChain = from === undefined ? undefined : { eventsTopic: from, ...(await enrichmentRules(config)) };
      const plan = await withCatalog(config.mysqlUrl, async (catalog) => {
        const made = await planReplay(catalog, {
          ...job,
          startupMs,
          ...(fullChain === undefined ? {} : { fullChain }),
        });
        // For the versions API and the dashboard once `recover` replays with the same settings.
        await catalog.recordPlan(planKey(made, job.settings), plannedFigures(made));
        return made;
      });
      print(options['json'] === true ? JSON.stringify(plan) : describePlan(plan).join('\n'));
      return 0;
    }
    const fullChain = from === undefined ? undefined : { eventsTopic: from, ...(await enrichmentRules(config)) };
    const result = await runRecover({
      ...aggregateJob(config, version, logger, signal, `kappa-recover-${version}`),
      allowDeadLetters: options['allowDeadLetters'] === true,
      untilCaughtUp: options['untilCaughtUp'] === true,
      cutover: options['cutover'] === true,
      shadow: options['shadow'] === true,
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
  settings: [...EXPLAIN_SETTINGS],
  options: [
    { flag: '--to <version>', doc: 'the version readers switch to' },
    {
      flag: '--require-explained',
      doc: 'refuse while a row of the windows closed in both differs for a reason other than lateness (see kappa explain)',
    },
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
    if (options['requireExplained'] === true) await requireExplained(config, logger, signal, to, print);
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
  settings: [...EXPLAIN_SETTINGS],
  args: ['<from>', '<to>'],
  options: [
    { flag: '--json', doc: 'print the whole comparison as JSON' },
    {
      flag: '--explain',
      doc: 'also replay both logs: is every differing row explained by lateness, and where the recovered late events fall',
    },
  ],
  run: async ({ config, args, options, logger, signal, print }) => {
    const values = new OptionValues({ from: args[0], to: args[1] });
    const from = values.get('from', '<from>', versionName);
    const to = values.get('to', '<to>', versionName);
    values.check();
    if (from === undefined || to === undefined) return 2;
    if (options['explain'] === true && options['json'] === true) {
      const { explainDiff } = await import('../../recovery/explain-versions.js');
      const explained = await withExplainContext(config, logger, signal, (context) => explainDiff(context, from, to));
      print(JSON.stringify(explained));
      return 0;
    }
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
    if (options['explain'] === true) await printExplainedDiff(config, logger, signal, from, to, print);
    return 0;
  },
});

export const verifyCommand = defineCommand({
  name: 'verify',
  summary:
    'Prove two job versions equal over the windows closed in both, from their per-window digests (exit 1 naming the first differing windows)',
  // A version MySQL does not know is looked up in MongoDB (a `--sink mongodb` version).
  settings: ['mysqlUrl', 'mongodbUrl'],
  args: ['<from>', '<to>'],
  options: [{ flag: '--json', doc: 'print the comparison as JSON' }],
  run: async ({ config, args, options, print }) => {
    const values = new OptionValues({ from: args[0], to: args[1] });
    const from = values.get('from', '<from>', versionName);
    const to = values.get('to', '<to>', versionName);
    values.check();
    if (from === undefined || to === undefined) return 2;
    const [{ verifyVersions }, { firstKnowing }, { MongoVersions }] = await Promise.all([
      import('../../recovery/verify.js'),
      import('../../recovery/version-source.js'),
      import('../../recovery/mongo-versions.js'),
    ]);
    let mongo: ReturnType<typeof MongoVersions.open> | undefined;
    const result = await withCatalog(config.mysqlUrl, (catalog) =>
      verifyVersions(
        firstKnowing(catalog, () => (mongo ??= MongoVersions.open(config.mongodbUrl))),
        from,
        to,
      ),
    ).finally(() => mongo?.then((store) => store.close()).catch(() => undefined));
    if (options['json'] === true) {
      print(JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
      return result.identical ? 0 : 1;
    }
    const dims = Object.keys(result.tables).join(', ');
    if (result.identical) {
      print(`verify ${from} ${to}: identical over ${formatCount(result.windows)} windows (${dims})`);
      return 0;
    }
    const differing = Object.entries(result.tables).flatMap(([dim, table]) =>
      table.differing.map((entry) => ({ dim, ...entry })),
    );
    print(
      `verify ${from} ${to}: ${formatCount(differing.length)} of ${formatCount(result.windows)} windows differ (${dims})`,
    );
    const side = (entry: { readonly total: number } | undefined) =>
      entry === undefined ? 'no rows' : `${formatCount(entry.total)}`;
    for (const entry of differing.sort((a, b) => a.windowStart - b.windowStart).slice(0, 5))
      print(
        `  ${entry.dim} window ${new Date(entry.windowStart).toISOString()}: total ${side(entry.from)} in ${from}, ${side(entry.to)} in ${to}`,
      );
    print(`  \`kappa diff ${from} ${to}\` shows the differing rows`);
    return 1;
  },
});

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Lag, watermark, late counts and state per job version',
  settings: ['kafkaBrokers', 'mysqlUrl'],
  options: [{ flag: '--json', doc: 'print the versions as JSON' }],
  run: async ({ config, options, logger, print }) => {
    const [{ versionStatus }, { describeTzDrift, tzDrift }] = await Promise.all([
      operations(),
      import('../../shared/tz-database.js'),
    ]);
    const statuses = await withCatalog(config.mysqlUrl, (catalog) =>
      withAdmin(config.kafkaBrokers, logger, (admin) => versionStatus(catalog, admin)),
    );
    for (const status of statuses) {
      const drift = tzDrift(status.version, status.tzVersion);
      if (drift !== undefined) logger.warn({ ...drift }, describeTzDrift(drift));
    }
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
