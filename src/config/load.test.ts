import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigErrors } from '../shared/errors.js';
import { loadConfig } from './load.js';
import { SETTINGS, SETTING_KEYS, type SettingKey } from './settings.js';

function errorsOf(run: () => unknown): ConfigErrors {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigErrors) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw ConfigErrors');
}

describe('loadConfig: sources', () => {
  it('gives the SPEC §2.1 defaults', () => {
    const config = loadConfig(
      [
        'kafkaBrokers',
        'registryUrl',
        'mysqlUrl',
        'mongodbUrl',
        'apiHost',
        'apiPort',
        'window',
        'slide',
        'watermarkDelay',
        'timeZone',
      ],
      { env: {} },
    );
    expect(config).toEqual({
      kafkaBrokers: ['127.0.0.1:9092'],
      registryUrl: 'http://127.0.0.1:8081',
      mysqlUrl: 'mysql://root@127.0.0.1:3306/kappa',
      mongodbUrl: 'mongodb://127.0.0.1:27017/kappa',
      apiHost: '127.0.0.1',
      apiPort: 3000,
      window: 10_000,
      slide: 10_000,
      watermarkDelay: 15_000,
      timeZone: 'Asia/Seoul',
    });
  });

  it('prefers a flag to the environment, and the environment to the default', () => {
    const env = { KAPPA_KAFKA_BROKERS: 'env-host:1', KAPPA_WATERMARK: '60 minutes' };
    const config = loadConfig(['kafkaBrokers', 'watermarkDelay', 'window'], {
      env,
      flags: { kafkaBrokers: 'flag-a:2, flag-b:3' },
    });
    expect(config.kafkaBrokers).toEqual(['flag-a:2', 'flag-b:3']);
    expect(config.watermarkDelay).toBe(3_600_000);
    expect(config.window).toBe(10_000);
  });

  it('returns only the settings asked for, frozen', () => {
    const config = loadConfig(['apiPort'], { env: {} });
    expect(Object.keys(config)).toEqual(['apiPort']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(loadConfig(['kafkaBrokers'], { env: {} }).kafkaBrokers)).toBe(true);
  });

  it('resolves directories against the working directory and the cache under XDG_CACHE_HOME or ~/.cache', () => {
    expect(loadConfig(['stateDir'], { env: {} }).stateDir).toBe(resolve('.kappa'));
    expect(loadConfig(['stateDir'], { env: { KAPPA_STATE_DIR: '/tmp/x' } }).stateDir).toBe('/tmp/x');
    const previous = process.env['XDG_CACHE_HOME'];
    try {
      process.env['XDG_CACHE_HOME'] = '/xdg';
      expect(loadConfig(['cacheDir'], { env: {} }).cacheDir).toBe('/xdg/kappa');
      delete process.env['XDG_CACHE_HOME'];
      expect(loadConfig(['cacheDir'], { env: {} }).cacheDir).toBe(join(homedir(), '.cache', 'kappa'));
    } finally {
      if (previous === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = previous;
    }
  });

  it('accepts the values users type', () => {
    const config = loadConfig(
      [
        'kafkaBrokers',
        'registryUrl',
        'apiHost',
        'timeZone',
        'topicEvents',
        'kafkaVersion',
        'stackKafkaHeap',
        'logLevel',
      ],
      {
        env: {
          KAPPA_KAFKA_BROKERS: 'kafka-1:9092,kafka-2.internal:19092,[::1]:9092',
          KAPPA_REGISTRY_URL: 'https://registry.example.com',
          KAPPA_API_HOST: '0.0.0.0',
          KAPPA_TIME_ZONE: 'UTC',
          KAPPA_TOPIC_EVENTS: 'prod.events_v2-raw',
          KAPPA_KAFKA_VERSION: '3.9.1',
          KAPPA_STACK_KAFKA_HEAP: '1g',
          KAPPA_LOG_LEVEL: 'debug',
        },
      },
    );
    expect(config.kafkaBrokers).toEqual(['kafka-1:9092', 'kafka-2.internal:19092', '[::1]:9092']);
    expect(config.timeZone).toBe('UTC');
    expect(config.logLevel).toBe('debug');
  });
});

/** One value each setting must refuse, with a fragment of the problem it must report. */
const BAD_VALUES: Record<SettingKey, readonly (readonly [string, string])[]> = {
  dims: [
    ['user,city', 'comma-separated list of user, dept, age, gender'],
    ['', 'comma-separated list'],
  ],
  commitRecords: [['0', '']],
  commitInterval: [['soon', '']],
  kafkaBrokers: [
    [' ', 'is empty'],
    ['', 'is empty'],
    ['localhost', '"localhost" is not host:port'],
    ['a:1,', '"" is not host:port'],
    ['a:0', 'not host:port'],
    ['a:70000', 'not host:port'],
    ['a b:1', 'not host:port'],
  ],
  registryUrl: [
    ['localhost:8081', 'http or https URL'],
    ['ftp://x', 'http or https URL'],
    ['http://', 'http or https URL'],
  ],
  registryHost: [['not a host', 'host name or IP']],
  registryPort: [['0', 'between 1 and 65535']],
  registryTopic: [['bad topic', 'Kafka topic name']],
  schemasDir: [[' ', 'a path, e.g. .kappa']],
  namesFile: [[' ', 'a path']],
  deptsFile: [['', 'a path']],
  genderMale: [[' ', 'non-empty label']],
  genderFemale: [['x'.repeat(65), 'non-empty label']],
  badRecords: [['ignore', 'expected one of dead-letter, skip, fail']],
  enrichTransactionMs: [
    ['100', 'positive duration with a unit'],
    ['0s', 'positive duration'],
  ],
  enrichTransactionRecords: [
    ['0', 'whole number from 1 to 1000000'],
    ['1.5', 'whole number'],
  ],
  mysqlUrl: [
    ['postgres://x/db', 'mysql URL'],
    ['mysql://root@127.0.0.1:3306', 'must name a database'],
    ['mysql://h/bad-name', 'must name a database'],
  ],
  sink: [['postgres', 'expected one of mysql, mongodb']],
  mongodbUrl: [
    ['http://x/db', 'mongodb URL'],
    ['mongodb://h', 'must name a database'],
  ],
  apiToken: [['short', 'at least 16 visible characters']],
  ingestToken: [['short', 'at least 16 visible characters']],
  registryToken: [['short', 'at least 16 visible characters']],
  apiRateLimit: [
    ['-1', 'whole number from 0'],
    ['lots', 'whole number from 0'],
  ],
  ingestRateLimit: [
    ['-1', 'whole number from 0'],
    ['many', 'whole number from 0'],
  ],
  apiHost: [
    ['', 'host name or IP'],
    ['bad host', 'host name or IP'],
  ],
  apiPort: [
    ['0', 'between 1 and 65535'],
    ['65536', 'between 1 and 65535'],
    ['http', 'between 1 and 65535'],
    ['30.5', 'between 1 and 65535'],
  ],
  topicEvents: [
    ['', 'Kafka topic name'],
    ['a/b', 'Kafka topic name'],
    ['.', 'Kafka topic name'],
    ['..', 'Kafka topic name'],
    ['x'.repeat(250), 'Kafka topic name'],
  ],
  topicStages: [['with space', 'Kafka topic name']],
  topicPartitions: [
    ['0', 'from 1 to 10000'],
    ['1.5', 'from 1 to 10000'],
    ['three', 'from 1 to 10000'],
  ],
  topicReplicationFactor: [
    ['0', 'auto or a whole number from 1 to 32'],
    ['-1', 'auto or a whole number from 1 to 32'],
  ],
  topicMinInsync: [['many', 'auto or a whole number from 1 to 32']],
  topicReplicationCheck: [['fix', 'expected one of warn, refuse']],
  kafkaSsl: [['yes', 'expected one of auto, on, off']],
  // Paths and names: any text is a candidate; unreadable files are refused when read (security.ts).
  kafkaSslCa: [],
  kafkaSslCert: [],
  kafkaSslKey: [],
  kafkaSaslMechanism: [['gssapi', 'expected one of none, plain, scram-sha-256, scram-sha-512']],
  kafkaSaslUsername: [],
  kafkaSaslPassword: [],
  kafkaSaslPasswordFile: [],
  timeZone: [
    ['Mars/Olympus', 'not an IANA time zone'],
    ['', 'not an IANA time zone'],
  ],
  window: [
    ['10', 'positive duration with a unit'],
    ['0s', 'positive duration'],
    ['soon', 'positive duration'],
  ],
  slide: [['-10s', 'positive duration']],
  watermarkDelay: [['15', 'positive duration with a unit']],
  maxFuture: [
    ['1', 'positive duration with a unit'],
    ['0s', 'positive duration'],
  ],
  latenessDelays: [
    ['15', '"15" is not a duration'],
    ['15s,,1m', '"" is not a duration'],
    ['12.345s', 'more than three significant digits; use e.g. 12400 ms'],
  ],
  latenessTarget: [
    ['2', 'percentage or a fraction'],
    ['101%', 'percentage or a fraction'],
    ['-1%', 'percentage or a fraction'],
  ],
  stateDir: [[' ', 'a path, e.g. .kappa']],
  cacheDir: [['', 'a path, e.g. .kappa']],
  kafkaVersion: [
    ['4.0.0', '3.9.x'],
    ['3.8.1', '3.9.x'],
    ['latest', '3.9.x'],
  ],
  stackKafkaPort: [['99999', 'between 1 and 65535']],
  stackControllerPort: [['-1', 'between 1 and 65535']],
  stackKafkaHeap: [
    ['512', 'JVM heap size'],
    ['lots', 'JVM heap size'],
  ],
  stackStartTimeout: [['90', 'positive duration with a unit']],
  logLevel: [['verbose', 'expected one of fatal, error, warn, info, debug, trace, silent']],
  logFormat: [['text', 'expected one of auto, json, pretty']],
};

describe('loadConfig: every setting refuses bad input with one line naming it', () => {
  it('has bad values declared for every setting', () => {
    expect(Object.keys(BAD_VALUES).sort()).toEqual([...SETTING_KEYS].sort());
  });

  for (const key of SETTING_KEYS) {
    const { env, flag } = SETTINGS[key];
    const flagName = flag.split(' ')[0] ?? flag;
    for (const [value, problem] of BAD_VALUES[key]) {
      it(`${env}=${JSON.stringify(value.slice(0, 20))} → "${problem}"`, () => {
        const fromEnv = errorsOf(() => loadConfig([key], { env: { [env]: value } }));
        expect(fromEnv.errors).toHaveLength(1);
        expect(fromEnv.errors[0]?.setting).toBe(key);
        // A secret's value is never shown, and its flag names a file (tested apart).
        const secret = SETTINGS[key].fileEnv !== undefined;
        const shown = secret ? '***' : JSON.stringify(value);
        expect(fromEnv.message).toContain(`invalid ${env}=${shown} (flag ${flagName})`);
        expect(fromEnv.message).toContain(problem);
        expect(fromEnv.message).not.toContain('\n');
        expect(fromEnv.exitCode).toBe(2);
        if (secret) return;

        const fromFlag = errorsOf(() => loadConfig([key], { env: {}, flags: { [key]: value } }));
        expect(fromFlag.message).toContain(`invalid ${flagName} ${JSON.stringify(value)} (env ${env})`);
        expect(fromFlag.message).toContain(problem);
      });
    }
  }

  it('ignores bad values of settings the command does not read', () => {
    expect(loadConfig(['apiPort'], { env: { KAPPA_MYSQL_URL: 'nonsense' } }).apiPort).toBe(3000);
  });

  it('reports every bad setting at once, one line each', () => {
    const errors = errorsOf(() =>
      loadConfig(['apiPort', 'kafkaBrokers', 'window'], { env: { KAPPA_API_PORT: 'x', KAPPA_KAFKA_BROKERS: ' ' } }),
    );
    expect(errors.errors.map((error) => error.setting)).toEqual(['apiPort', 'kafkaBrokers']);
    expect(errors.message.split('\n')).toHaveLength(2);
  });
});

describe('loadConfig: unknown and inconsistent settings', () => {
  it('refuses an unknown KAPPA_ variable and suggests the near name', () => {
    const errors = errorsOf(() => loadConfig(['apiPort'], { env: { KAPPA_KAFKA_BROKER: 'x:1' } }));
    expect(errors.message).toBe('unknown setting KAPPA_KAFKA_BROKER; did you mean KAPPA_KAFKA_BROKERS?');
  });

  it('refuses an unknown KAPPA_ variable with no near name, and leaves other variables alone', () => {
    const errors = errorsOf(() =>
      loadConfig([], { env: { KAPPA_SOMETHING_ELSE_ENTIRELY: '1', PATH: '/bin', KAFKA_HOME: '/x' } }),
    );
    expect(errors.errors).toHaveLength(1);
    expect(errors.message).toContain('unknown setting KAPPA_SOMETHING_ELSE_ENTIRELY; see `kappa --help`');
  });

  it('refuses a slide longer than the window', () => {
    const errors = errorsOf(() => loadConfig(['window', 'slide'], { env: { KAPPA_WINDOW: '10s', KAPPA_SLIDE: '1m' } }));
    expect(errors.errors.map((error) => error.setting)).toEqual(['slide']);
    expect(errors.message).toContain('KAPPA_SLIDE');
    expect(loadConfig(['window', 'slide'], { env: { KAPPA_WINDOW: '1m', KAPPA_SLIDE: '10s' } }).slide).toBe(10_000);
  });

  it('refuses the same port for the broker and its controller', () => {
    const errors = errorsOf(() =>
      loadConfig(['stackKafkaPort', 'stackControllerPort'], {
        env: { KAPPA_STACK_KAFKA_PORT: '9500', KAPPA_STACK_CONTROLLER_PORT: '9500' },
      }),
    );
    expect(errors.errors.map((error) => error.setting)).toEqual(['stackControllerPort']);
  });
});

describe('loadConfig: secrets (issue 22)', () => {
  it('never shows a password of a URL in an error', () => {
    const errors = errorsOf(() =>
      loadConfig(['mysqlUrl', 'mongodbUrl'], {
        env: { KAPPA_MYSQL_URL: 'mysql://root:S3cret@127.0.0.1:3306', KAPPA_MONGODB_URL: 'mongodb://u:M0ngoPw@h' },
      }),
    );
    expect(errors.message).toContain('mysql://root:***@127.0.0.1:3306');
    expect(errors.message).toContain('mongodb://u:***@h');
    expect(errors.message).not.toMatch(/S3cret|M0ngoPw/);
  });

  it('never shows a token in an error', () => {
    const errors = errorsOf(() => loadConfig(['apiToken'], { env: { KAPPA_API_TOKEN: 'almost a t0ken' } }));
    expect(errors.message).toContain('invalid KAPPA_API_TOKEN=*** (flag --api-token-file)');
    expect(errors.message).not.toContain('t0ken');
  });

  it('reads a token from the file the flag or KAPPA_*_TOKEN_FILE names, the flag first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kappa-token-'));
    const flagFile = join(dir, 'flag');
    const envFile = join(dir, 'env');
    writeFileSync(flagFile, 'from-the-flag-file-0123\n');
    writeFileSync(envFile, 'from-the-env-file-01234\n');
    expect(loadConfig(['apiToken'], { env: { KAPPA_API_TOKEN_FILE: envFile } }).apiToken).toBe(
      'from-the-env-file-01234',
    );
    expect(
      loadConfig(['registryToken'], {
        env: { KAPPA_REGISTRY_TOKEN_FILE: envFile },
        flags: { registryToken: flagFile },
      }).registryToken,
    ).toBe('from-the-flag-file-0123');
    expect(loadConfig(['ingestToken'], { env: { KAPPA_INGEST_TOKEN: 'from-the-variable-0123' } }).ingestToken).toBe(
      'from-the-variable-0123',
    );
  });

  it('names a token file it cannot read, and refuses a file and a value both set', () => {
    const missing = errorsOf(() => loadConfig(['apiToken'], { env: { KAPPA_API_TOKEN_FILE: '/nonexistent/token' } }));
    expect(missing.message).toContain('cannot read KAPPA_API_TOKEN_FILE "/nonexistent/token"');
    const both = errorsOf(() =>
      loadConfig(['apiToken'], {
        env: { KAPPA_API_TOKEN_FILE: '/nonexistent/token', KAPPA_API_TOKEN: 'from-the-variable-0123' },
      }),
    );
    expect(both.message).toContain('set KAPPA_API_TOKEN or KAPPA_API_TOKEN_FILE, not both');
  });
});
