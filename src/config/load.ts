import { ConfigError, ConfigErrors } from '../shared/errors.js';
import { closest } from './closest.js';
import { type Config, type SettingKey, SETTINGS, SETTING_KEYS } from './settings.js';

export interface ConfigSources {
  /** Flag values by setting key, as typed on the command line (undefined: flag not given). */
  readonly flags?: Readonly<Partial<Record<SettingKey, string | undefined>>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type Origin = 'flag' | 'env' | 'default';

const KNOWN_ENV = new Map(SETTING_KEYS.map((key) => [SETTINGS[key].env as string, key]));

function flagName(key: SettingKey): string {
  return SETTINGS[key].flag.split(' ')[0] ?? SETTINGS[key].flag;
}

function describe(key: SettingKey, origin: Origin, text: string): string {
  const { env } = SETTINGS[key];
  const flag = flagName(key);
  const shown = JSON.stringify(text);
  if (origin === 'flag') return `${flag} ${shown} (env ${env})`;
  if (origin === 'env') return `${env}=${shown} (flag ${flag})`;
  return `${env} default ${shown}`;
}

function pick(key: SettingKey, sources: ConfigSources): { origin: Origin; text: string } {
  const fromFlag = sources.flags?.[key];
  if (fromFlag !== undefined) return { origin: 'flag', text: fromFlag };
  const fromEnv = sources.env?.[SETTINGS[key].env];
  if (fromEnv !== undefined) return { origin: 'env', text: fromEnv };
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
    const { origin, text } = pick(key, sources);
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
