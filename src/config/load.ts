import { readFileSync } from 'node:fs';
import { ConfigError, ConfigErrors } from '../shared/errors.js';
import { MASK, maskSecrets } from '../shared/secrets.js';
import { closest } from './closest.js';
import { type Config, type SettingKey, SETTINGS, SETTING_KEYS } from './settings.js';

export interface ConfigSources {
  /** Flag values by setting key, as typed on the command line (undefined: flag not given). */
  readonly flags?: Readonly<Partial<Record<SettingKey, string | undefined>>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type Origin = 'flag' | 'env' | 'file-env' | 'default';

const KNOWN_ENV = new Map<string, SettingKey>(
  SETTING_KEYS.flatMap((key) => {
    const { env, fileEnv } = SETTINGS[key] as { env: string; fileEnv?: string };
    return fileEnv === undefined ? [[env, key] as const] : [[env, key] as const, [fileEnv, key] as const];
  }),
);

function flagName(key: SettingKey): string {
  return SETTINGS[key].flag.split(' ')[0] ?? SETTINGS[key].flag;
}

function fileEnvOf(key: SettingKey): string | undefined {
  return (SETTINGS[key] as { fileEnv?: string }).fileEnv;
}

/** How an error shows where a value came from: a secret as ***, a URL without its password. */
function describe(key: SettingKey, origin: Origin, text: string): string {
  const { env } = SETTINGS[key];
  const flag = flagName(key);
  const fileEnv = fileEnvOf(key);
  const shown = fileEnv === undefined ? maskSecrets(JSON.stringify(text)) : MASK;
  if (origin === 'flag')
    return fileEnv === undefined ? `${flag} ${shown} (env ${env})` : `token in ${flag} (env ${env})`;
  if (origin === 'file-env') return `token in ${fileEnv ?? env} (flag ${flag})`;
  if (origin === 'env') return `${env}=${shown} (flag ${flag})`;
  return `${env} default ${shown}`;
}

/** A secret's file: its content without the trailing newline editors add. */
function readSecretFile(key: SettingKey, source: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(
      key,
      `cannot read ${source} ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function pick(key: SettingKey, sources: ConfigSources): { origin: Origin; text: string } {
  const fileEnv = fileEnvOf(key);
  const fromFlag = sources.flags?.[key];
  if (fromFlag !== undefined)
    return { origin: 'flag', text: fileEnv === undefined ? fromFlag : readSecretFile(key, flagName(key), fromFlag) };
  const fromEnv = sources.env?.[SETTINGS[key].env];
  const fromFileEnv = fileEnv === undefined ? undefined : sources.env?.[fileEnv];
  if (fromEnv !== undefined && fromFileEnv !== undefined)
    throw new ConfigError(key, `set ${SETTINGS[key].env} or ${fileEnv ?? ''}, not both`);
  if (fromEnv !== undefined) return { origin: 'env', text: fromEnv };
  if (fromFileEnv !== undefined && fileEnv !== undefined)
    return { origin: 'file-env', text: readSecretFile(key, fileEnv, fromFileEnv) };
  const fallback = SETTINGS[key].default;
  return { origin: 'default', text: typeof fallback === 'function' ? fallback() : fallback };
}

/** A KAPPA_* variable nobody reads is almost always a typo that silently changes nothing. */
function unknownEnvErrors(env: Readonly<Record<string, string | undefined>>): ConfigError[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('KAPPA_') && !KNOWN_ENV.has(name))
    .sort()
    .map((name) => {
      const guess = closest(name, [...KNOWN_ENV.keys()]);
      const hint = guess === undefined ? 'see `kappa --help` for the settings' : `did you mean ${guess}?`;
      return new ConfigError(name, `unknown setting ${name}; ${hint}`);
    });
}

function crossChecks(values: Partial<Record<SettingKey, unknown>>): ConfigError[] {
  const errors: ConfigError[] = [];
  const { window, slide, stackKafkaPort, stackControllerPort } = values;
  if (typeof window === 'number' && typeof slide === 'number' && slide > window) {
    errors.push(
      new ConfigError(
        'slide',
        `invalid KAPPA_SLIDE: ${slide}ms exceeds the window (${window}ms); events between windows would be dropped`,
      ),
    );
  }
  if (typeof stackKafkaPort === 'number' && stackKafkaPort === stackControllerPort) {
    errors.push(
      new ConfigError(
        'stackControllerPort',
        `invalid KAPPA_STACK_CONTROLLER_PORT: must differ from KAPPA_STACK_KAFKA_PORT (${stackKafkaPort})`,
      ),
    );
  }
  return errors;
}

/**
 * Resolves the asked settings from flags, then KAPPA_* environment variables, then defaults, and
 * validates them all in one pass. Throws ConfigErrors holding one single-line error per bad setting.
 */
export function loadConfig<K extends SettingKey>(
  keys: readonly K[],
  sources: ConfigSources = {},
): Readonly<Pick<Config, K>> {
  const errors = unknownEnvErrors(sources.env ?? {});
  const values: Partial<Record<SettingKey, unknown>> = {};
  for (const key of keys) {
    let picked: { origin: Origin; text: string };
    try {
      picked = pick(key, sources);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
      continue;
    }
    const { origin, text } = picked;
    const result = SETTINGS[key].schema.safeParse(text);
    if (result.success) {
      values[key] = result.data;
    } else {
      const problem = result.error.issues[0]?.message ?? 'is invalid';
      errors.push(new ConfigError(key, `invalid ${describe(key, origin, text)}: ${problem}`));
    }
  }
  errors.push(...crossChecks(values));
  if (errors.length > 0) throw new ConfigErrors(errors);
  return Object.freeze(values) as Readonly<Pick<Config, K>>;
}
