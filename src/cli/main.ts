import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { SETTINGS, type SettingKey } from '../config/settings.js';
import { KAFKA_SECURITY_SETTINGS } from '../kafka/security.js';
import { ConfigError, ConfigErrors, ERROR_CODES, isKappaError, KafkaUnreachableError } from '../shared/errors.js';
import { maskSecrets } from '../shared/secrets.js';
import { isMySqlError } from '../shared/sql-errors.js';
import type { CommandSpec } from './command.js';
import { COMMANDS } from './commands/index.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

function settingOption(key: SettingKey): Option {
  const setting = SETTINGS[key];
  const fallback = typeof setting.default === 'function' ? setting.default() : setting.default;
  return new Option(setting.flag, `${setting.doc} [env ${setting.env}, default ${fallback}]`);
}

/**
 * The flag a secret setting would have had (`--api-token`), kept hidden so that giving it is
 * refused with a message that says what to do instead: a command line shows in `ps`.
 */
function refusedSecretFlag(key: SettingKey): Option | undefined {
  const setting = SETTINGS[key] as { flag: string; env: string; fileEnv?: string };
  if (setting.fileEnv === undefined) return undefined;
  return new Option(`${(setting.flag.split(' ')[0] ?? '').replace(/-file$/, '')} <token>`).hideHelp();
}

function refusal(key: SettingKey, given: string): ConfigError {
  const setting = SETTINGS[key] as { flag: string; env: string; fileEnv?: string };
  const fileFlag = setting.flag.split(' ')[0] ?? '';
  return new ConfigError(
    key,
    `${given} is refused: a command line shows in \`ps\` to every user of this machine; set ${setting.env}, or put the token in a file and pass ${fileFlag} <file> (or ${setting.fileEnv ?? ''})`,
  );
}

/** Settings every command takes; the registry token because any command may write to the registry. */
const COMMON_SETTINGS = ['logLevel', 'logFormat', 'registryToken'] as const;

const GROUPS: Readonly<Record<string, string>> = {
  stack: 'The local infrastructure (Kafka broker): up, down, status',
  schemas: 'Avro schemas in schemas/: check, register',
};

/** Finds or creates the parent commands of `stack up`-style paths. */
function parentOf(program: Command, path: readonly string[]): Command {
  let parent = program;
  for (const name of path) {
    const found = parent.commands.find((command) => command.name() === name);
    parent = found ?? parent.command(name).description(GROUPS[name] ?? `${name} commands`);
  }
  return parent;
}

/** How long a command may take to stop after Ctrl-C / SIGTERM before the process exits anyway. */
const DEFAULT_STOP_GRACE_MS = 15_000;

/** Runs the kappa command line; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode = 0;
  const controller = new AbortController();
  let stopGraceMs = DEFAULT_STOP_GRACE_MS;
  const stop = () => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: the user means it
    controller.abort();
    // Long-running commands stop cleanly on the abort; one that ignores it must not outlive the signal.
    setTimeout(() => process.exit(130), stopGraceMs).unref();
  };

  const program = new Command('kappa')
    .description('A Kappa architecture on Kafka: one log, derived tables, replay-based recovery.')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`kappa: ${text}`),
    })
    .showHelpAfterError('(run with --help for usage)');

  const register = <K extends SettingKey>(spec: CommandSpec<K>) => {
    const path = spec.name.split(' ');
    const leaf = path.pop() ?? spec.name;
    const command = parentOf(program, path).command(leaf).description(spec.summary);
    for (const arg of spec.args ?? []) command.argument(arg);
    const optionNames = new Map<SettingKey, string>();
    // Every command that talks to Kafka takes the TLS / SASL settings (applied by createKafka).
    const security: readonly SettingKey[] = (spec.settings as readonly SettingKey[]).includes('kafkaBrokers')
      ? KAFKA_SECURITY_SETTINGS
      : [];
    // Each once: a command may name the security settings itself (kappa up hands them to the registry).
    const settingKeys = [...new Set([...spec.settings, ...security, ...COMMON_SETTINGS])];
    const refusedFlags = new Map<SettingKey, Option>();
    for (const key of settingKeys) {
      const refused = refusedSecretFlag(key);
      if (refused !== undefined) {
        refusedFlags.set(key, refused);
        command.addOption(refused);
      }
      // A secret is never a flag: argv is visible to every local user (ps, /proc).
      if (SETTINGS[key].envOnly === true) continue;
      const option = settingOption(key);
      optionNames.set(key, option.attributeName());
      command.addOption(option);
    }
    for (const extra of spec.options ?? []) command.option(extra.flag, extra.doc);

    command.action(async (...received: unknown[]) => {
      const args = received.slice(0, spec.args?.length ?? 0).map(String);
      const options = command.opts<Record<string, unknown>>();
      const refusals = [...refusedFlags]
        .filter(([, option]) => options[option.attributeName()] !== undefined)
        .map(([key, option]) => refusal(key, option.long ?? option.flags));
      if (refusals.length > 0) throw new ConfigErrors(refusals);
      const flags: Partial<Record<SettingKey, string>> = {};
      for (const [key, attribute] of optionNames) {
        const value = options[attribute];
        if (typeof value === 'string') flags[key] = value;
      }
      const config = loadConfig(settingKeys, { flags, env: io.env });
      if (security.length > 0) {
        // The TLS/SASL options, for commands that talk to Kafka; kafkajs's client loads only then.
        const [{ useKafkaSecurity }, { loadKafkaSecurity }] = await Promise.all([
          import('../kafka/client.js'),
          import('../kafka/security.js'),
        ]);
        useKafkaSecurity(await loadKafkaSecurity(config));
      }
      // The registry client loads only when a token is set: other commands do not pay for it.
      if (config.registryToken !== '')
        (await import('../registry/registry-client.js')).useRegistryToken(config.registryToken);
      // pino is loaded once a command runs: `kappa --help` does not pay for it.
      const { createLogger } = await import('../shared/logger.js');
      const logger = createLogger(config.logLevel, 'kappa', config.logFormat).child({ command: spec.name });
      // What a command prints (status tables, URLs) goes through the same masking as errors and logs.
      const print = (line: string) => io.stdout(`${maskSecrets(line)}\n`);
      stopGraceMs = spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
      exitCode = (await spec.run({ config, args, options, logger, signal: controller.signal, print })) ?? 0;
    });
  };
  for (const spec of COMMANDS) register(spec);

  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; every usage mistake is exit 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    // kafkajs's error types, loaded only on this path: start-up does not pay for kafkajs.
    const { authFailureDetail, isAuthenticationFailure, isBrokerUnreachable } =
      await import('../kafka/kafka-errors.js');
    // Wrong credentials: kafkajs does not retry them (KafkaJSSASLAuthenticationError is non-retriable).
    if (isAuthenticationFailure(error)) {
      io.stderr(
        `kappa: Kafka refused kappa's SASL credentials (${authFailureDetail(error)}); check KAPPA_KAFKA_SASL_MECHANISM, KAPPA_KAFKA_SASL_USERNAME and the password [KAPPA_KAFKA_AUTH_FAILED]\n`,
      );
      return ERROR_CODES.KAPPA_KAFKA_AUTH_FAILED.exitCode;
    }
    // No broker answered: told by the error's type (kafkajs's connection errors in its cause chain), not its text.
    if (error instanceof KafkaUnreachableError || (!isKappaError(error) && isBrokerUnreachable(error))) {
      // kafkajs gave up connecting (its own retries are short): say so plainly; a service manager restarts us.
      io.stderr(
        `kappa: cannot reach Kafka: ${maskSecrets(error instanceof Error ? error.message : String(error))}; is the broker up (\`kappa stack status\`) and KAPPA_KAFKA_BROKERS right? [KAPPA_KAFKA_UNREACHABLE]\n`,
      );
      return ERROR_CODES.KAPPA_KAFKA_UNREACHABLE.exitCode;
    }
    // MySQL refused us or did not answer (a wrong password, a server down): say so, not "unexpected".
    if (isMySqlError(error)) {
      io.stderr(
        `kappa: MySQL answered: ${maskSecrets(error.message)}${error.code === undefined ? '' : ` (${error.code})`}; check KAPPA_MYSQL_URL and that the server is up [KAPPA_MYSQL_UNAVAILABLE]\n`,
      );
      return ERROR_CODES.KAPPA_MYSQL_UNAVAILABLE.exitCode;
    }
    if (isKappaError(error)) {
      const lines =
        error.code === 'KAPPA_CONFIG_INVALID' ? error.message.split('\n') : [`${error.message} [${error.code}]`];
      for (const line of lines) io.stderr(`kappa: ${maskSecrets(line)}\n`);
      return error.exitCode;
    }
    io.stderr(
      `kappa: unexpected error: ${maskSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
