import type { SettingKey } from '../../config/settings.js';
import { defineCommand, notImplemented, type CommandSpec } from '../command.js';

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

export const PENDING_COMMANDS: readonly CommandSpec<SettingKey>[] = [];
