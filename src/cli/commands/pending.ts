import { defineCommand, notImplemented } from '../command.js';

/**
 * Commands of the SPEC §2.1 contract whose work lands in later issues. They are wired now — flags,
 * `--help`, configuration validation (a bad setting still exits 2) — and then fail with
 * KAPPA_NOT_IMPLEMENTED naming the issue, so nothing ever reports a success it did not earn.
 */

export const up = defineCommand({
  name: 'up',
  summary: 'Run everything on this machine: broker, registry, migrations, generator, enrichment, v1 aggregator, API',
  settings: ['kafkaBrokers', 'registryUrl', 'mysqlUrl', 'apiHost', 'apiPort', 'stateDir', 'cacheDir'],
  run: notImplemented('up', 9, 'the all-in-one pipeline'),
});

export const PENDING_COMMANDS = [
  defineCommand({
    name: 'recover',
    summary: 'Replay the log from offset 0 into a new job version (new tables, new consumer group)',
    settings: ['kafkaBrokers', 'registryUrl', 'mysqlUrl', 'topicEvents', 'topicStages', 'timeZone', 'window', 'slide', 'watermark'],
    options: [
      { flag: '--to <version>', doc: 'the new job version, e.g. v2' },
      { flag: '--from <topic>', doc: 're-enrich from this raw topic first (full-chain replay)' },
      { flag: '--until-caught-up', doc: 'exit 0 once the new version has no lag' },
    ],
    run: notImplemented('recover', 7, 'replay-based recovery'),
  }),
  defineCommand({
    name: 'cutover',
    summary: 'Switch readers to a caught-up job version',
    settings: ['kafkaBrokers', 'mysqlUrl'],
    options: [{ flag: '--to <version>', doc: 'the version readers switch to' }],
    run: notImplemented('cutover', 7, 'cutover'),
  }),
  defineCommand({
    name: 'rollback',
    summary: 'Switch readers back to the previously serving job version',
    settings: ['mysqlUrl'],
    run: notImplemented('rollback', 7, 'rollback'),
  }),
  defineCommand({
    name: 'diff',
    summary: 'Compare two job versions: differing windows, rows only in one, late events recovered',
    settings: ['mysqlUrl'],
    args: ['<from>', '<to>'],
    run: notImplemented('diff', 7, 'version diff'),
  }),
  defineCommand({
    name: 'serve',
    summary: 'Serve the query API, HTTP ingest, metrics and the dashboard',
    settings: ['kafkaBrokers', 'registryUrl', 'mysqlUrl', 'apiHost', 'apiPort'],
    run: notImplemented('serve', 8, 'the HTTP API'),
  }),
  defineCommand({
    name: 'status',
    summary: 'Lag, watermark and late counts per job version',
    settings: ['kafkaBrokers', 'mysqlUrl', 'topicStages'],
    run: notImplemented('status', 7, 'job version status'),
  }),
];
