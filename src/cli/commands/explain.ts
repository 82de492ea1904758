import { z } from 'zod';
import { dimensionOfSegment, isDimension, type Dimension } from '../../model/dimensions.js';
import type { Config } from '../../config/settings.js';
import type { RowExplanation } from '../../recovery/explain.js';
import type { ExplainContext, ExplainedDiff } from '../../recovery/explain-versions.js';
import type { Logger } from '../../shared/logger.js';
import { defineCommand } from '../command.js';
import { versionName } from '../job-settings.js';
import { OptionValues } from '../option-values.js';

/** What reading the versions' logs needs. */
export const EXPLAIN_SETTINGS = ['kafkaBrokers', 'registryUrl', 'mysqlUrl', 'schemasDir', 'timeZone'] as const;
type ExplainConfig = Readonly<Pick<Config, (typeof EXPLAIN_SETTINGS)[number]>>;

// kafkajs, mysql2 and the explanation's modules load when a command runs, not when the command
// line is parsed: `kappa --help` does not pay for them.
const explaining = async () => {
  const [versions, format] = await Promise.all([
    import('../../recovery/explain-versions.js'),
    import('../../recovery/explain-format.js'),
  ]);
  return { ...versions, ...format };
};

/** Runs `work` with a catalogue and the log source of an explanation, closing both after. */
export async function withExplainContext<T>(
  config: ExplainConfig,
  logger: Logger,
  signal: AbortSignal,
  work: (context: ExplainContext) => Promise<T>,
): Promise<T> {
  const [{ Catalog }, { createKafka }] = await Promise.all([
    import('../../recovery/catalog.js'),
    import('../../kafka/client.js'),
  ]);
  const catalog = await Catalog.open(config.mysqlUrl);
  try {
    return await work({
      catalog,
      source: {
        kafka: createKafka({ brokers: config.kafkaBrokers, logger, clientId: 'kappa-explain' }),
        registryUrl: config.registryUrl,
        schemasDir: config.schemasDir,
        logger,
        signal,
      },
      defaultTimeZone: config.timeZone,
    });
  } finally {
    await catalog.close();
  }
}

/** `users` (the API's segment) or `user` (the `--dims` name). */
export const dimensionName = z.string().transform((text, context): Dimension => {
  const dim = dimensionOfSegment(text) ?? (isDimension(text) ? text : undefined);
  if (dim === undefined) {
    context.addIssue({ code: 'custom', message: 'expected a dimension, e.g. users (or user), depts, ages' });
    return z.NEVER;
  }
  return dim;
});

/** An ISO-8601 instant: the window's start. */
export const windowStartTime = z.string().transform((text, context): number => {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
    context.addIssue({ code: 'custom', message: 'expected an ISO-8601 time, e.g. 2026-12-05T03:42:10Z' });
    return z.NEVER;
  }
  return ms;
});

export const explainCommand = defineCommand({
  name: 'explain',
  summary:
    'The events that make one row differ between two versions: partition, offset, id, event time, and why (late against which watermark, or counted under another key)',
  settings: [...EXPLAIN_SETTINGS],
  args: ['<from>', '<to>', '<dim>', '<key>', '<window>'],
  options: [
    { flag: '--json', doc: 'print the explanation as JSON' },
    { flag: '--limit <n>', doc: 'list at most n events (default: all)' },
  ],
  run: async ({ config, args, options, logger, signal, print }) => {
    const values = new OptionValues({ from: args[0], to: args[1], dim: args[2], window: args[4] });
    const from = values.get('from', '<from>', versionName);
    const to = values.get('to', '<to>', versionName);
    const dim = values.get('dim', '<dim>', dimensionName);
    const time = values.get('window', '<window>', windowStartTime);
    const limit = new OptionValues(options).get(
      'limit',
      '--limit',
      z
        .string()
        .regex(/^[1-9]\d*$/, 'expected a positive whole number')
        .transform(Number),
    );
    values.check();
    const key = args[3];
    if (from === undefined || to === undefined || dim === undefined || time === undefined || key === undefined)
      return 2;
    const { explainRows, describeRowInFull } = await explaining();
    const [row] = await withExplainContext(config, logger, signal, async (context) => {
      const { settings } = await context.catalog.version(to);
      // Any instant of the window names it: the start of the last window (of `to`) containing it.
      const windowStart = Math.floor(time / settings.slideMs) * settings.slideMs;
      return explainRows(context, from, to, [{ dim, key, windowStart }]);
    });
    if (row === undefined) return 1;
    if (options['json'] === true) print(JSON.stringify(row));
    else for (const line of describeRowInFull(row, limit)) print(line);
    return row.exact ? 0 : 1;
  },
});

/**
 * `cutover --require-explained`: refuses (KAPPA_CUTOVER_UNEXPLAINED) while a row of the windows
 * closed in both the serving version and `to` differs for a reason other than lateness.
 */
export async function requireExplained(
  config: ExplainConfig,
  logger: Logger,
  signal: AbortSignal,
  to: string,
  print: (line: string) => void,
): Promise<void> {
  const { explainDiff, firstUnexplained, unexplainedError, describeRowInFull } = await explaining();
  await withExplainContext(config, logger, signal, async (context) => {
    const serving = await context.catalog.serving();
    if (serving === undefined || serving === to) return;
    const explained = await explainDiff(context, serving, to);
    const first = firstUnexplained(explained.rows);
    if (first !== undefined) throw unexplainedError(first, (row) => describeRowInFull(row, 5).join('\n'));
    print(
      `every differing row of the windows closed in both ${serving} and ${to} is explained by lateness (${explained.rows.length} rows, ${explained.late.inClosedWindows} late events recovered)`,
    );
  });
}

/** `diff --explain`: the explained rows and the late events recovered, reconciled. */
export async function printExplainedDiff(
  config: ExplainConfig,
  logger: Logger,
  signal: AbortSignal,
  from: string,
  to: string,
  print: (line: string) => void,
): Promise<ExplainedDiff> {
  const { explainDiff, describeRow } = await explaining();
  const explained = await withExplainContext(config, logger, signal, (context) => explainDiff(context, from, to));
  const { late, rows } = explained;
  const unexplained = rows.filter((row) => !row.exact || !row.byLateness);
  print(
    `  explained: ${rows.length - unexplained.length} of ${rows.length} differing rows by lateness alone` +
      (unexplained.length === 0 ? '' : `; first other: ${describeRow(unexplained[0] as RowExplanation)}`),
  );
  print(
    `  late events recovered: ${late.recovered} = ${late.inClosedWindows} in windows closed in both (in the rows above) + ${late.inWindowsNotClosed} in windows not yet closed in ${to}` +
      (late.lostInTo === 0 ? '' : `; ${late.lostInTo} events late in ${to} only`),
  );
  return explained;
}
