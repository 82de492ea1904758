import type { Config, SettingKey } from '../config/settings.js';
import type { Logger } from '../shared/logger.js';

/** A flag of one command that is not a shared setting (e.g. `--purge`, `--count <n>`). */
export interface OptionSpec {
  readonly flag: string;
  readonly doc: string;
}

export interface CommandContext<K extends SettingKey> {
  readonly config: Readonly<Pick<Config, K | 'logLevel' | 'logFormat' | 'registryToken'>>;
  /** Positional arguments, in the order declared by `args`. */
  readonly args: readonly string[];
  /** Values of the command's own options, by commander attribute name (`--late-by` → `lateBy`). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  /** Aborted on SIGINT / SIGTERM: long-running commands stop cleanly when it fires. */
  readonly signal: AbortSignal;
  /** Writes one line of the command's own output to stdout. */
  readonly print: (line: string) => void;
}

export interface CommandSpec<K extends SettingKey = SettingKey> {
  /** Space-separated path: `status`, `stack up`, `schemas check`. */
  readonly name: string;
  readonly summary: string;
  /** Settings the command reads; each becomes a flag. `logLevel` and `logFormat` are added to every command. */
  readonly settings: readonly K[];
  /** Commander argument syntax, e.g. `<from>`, `[to]`. */
  readonly args?: readonly string[];
  readonly options?: readonly OptionSpec[];
  /**
   * How long the command may take to stop after Ctrl-C / SIGTERM before the process exits anyway
   * (default 15 s): `kappa up` awaits its stages' last commits and stops the broker it started.
   */
  readonly stopGraceMs?: number;
  /**
   * Resolves to the exit code (0 when omitted). Method syntax on purpose: it lets a list of
   * commands with different settings be held as CommandSpec<SettingKey>.
   */
  run(context: CommandContext<K>): Promise<number | undefined>;
}

/** Declares a command with its settings' keys checked against the context's config type. */
export function defineCommand<K extends SettingKey>(spec: CommandSpec<K>): CommandSpec<K> {
  return spec;
}
