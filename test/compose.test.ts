import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { SETTING_KEYS, SETTINGS } from '../src/config/settings.js';

/**
 * compose/docker-compose.yml is checked with a real Compose implementation (`config -q`), not by
 * eye: Debian's docker-compose 1.29 or the `docker compose` plugin. No Docker daemon is needed.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE_FILE = join(ROOT, 'compose', 'docker-compose.yml');
const STAGES = ['aggregate-v1', 'aggregate-v1-mongodb', 'api', 'enrich', 'ingest'] as const;
const KNOWN_ENV = new Set<string>(Object.values(SETTINGS).map((setting) => setting.env));
const INSTALL_HINT =
  'install Docker Compose to run this test: `apt-get install docker-compose` (Debian/Ubuntu, v1.29) ' +
  'or the Compose plugin (`docker compose`, https://docs.docker.com/compose/install/)';

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

interface RunOptions {
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Send stdout and stderr to this file descriptor instead of capturing them. */
  readonly logFd?: number;
}

/** Runs a command asynchronously (never blocks the worker); a missing binary is a result, not a throw. */
function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const { logFd } = options;
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let failure: Error | undefined;
    child.on('error', (error) => (failure = error));
    child.on('close', (status) =>
      resolve(failure === undefined ? { status, stdout, stderr } : { status, stdout, stderr, error: failure }),
    );
  });
}

interface Validator {
  readonly label: string;
  readonly command: string;
  /** Arguments before `-f <file> ...`: [] for docker-compose, ['compose'] for the plugin. */
  readonly prefix: readonly string[];
}

const DOCKER_COMPOSE: Validator = { label: 'docker-compose', command: 'docker-compose', prefix: [] };
const COMPOSE_PLUGIN: Validator = { label: 'docker compose', command: 'docker', prefix: ['compose'] };

async function works(validator: Validator): Promise<boolean> {
  const result = await run(validator.command, [...validator.prefix, 'version'], { timeoutMs: 30_000 });
  return result.status === 0;
}

/** Installs Debian's docker-compose (only its Python dependencies, not the Docker engine). */
async function aptInstallDockerCompose(): Promise<string> {
  const log = join(tmpdir(), `kappa-compose-test-apt-${process.pid}.log`);
  const fd = openSync(log, 'a');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args: readonly string[]) =>
      run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env, logFd: fd, timeoutMs: 400_000 });
    const install = ['install', '-y', '--no-install-recommends', 'docker-compose'];
    const first = await apt(install);
    if (first.status !== 0) {
      // A fresh image usually has no package lists yet.
      await apt(['update']);
      await apt(install);
    }
  } finally {
    closeSync(fd);
  }
  return log;
}

/** The first Compose implementation that works, installing Debian's package as root when there is none. */
async function findValidator(): Promise<Validator | string> {
  if (await works(DOCKER_COMPOSE)) return DOCKER_COMPOSE;
  if (await works(COMPOSE_PLUGIN)) return COMPOSE_PLUGIN;
  const root = process.getuid?.() === 0;
  const hasApt = (await run('apt-get', ['--version'], { timeoutMs: 30_000 })).status === 0;
  if (!root || !hasApt) {
    return `no Compose implementation found (neither \`docker-compose\` nor \`docker compose\` works, and automatic installation needs root and apt-get); ${INSTALL_HINT}`;
  }
  const log = await aptInstallDockerCompose();
  if (await works(DOCKER_COMPOSE)) return DOCKER_COMPOSE;
  return `no Compose implementation found, and \`apt-get install docker-compose\` did not provide one (see ${log}); ${INSTALL_HINT}`;
}

/** The passwords compose requires (`${VAR:?}`), as a user sets them in the environment or compose/.env. */
const SECRETS = {
  MYSQL_ROOT_PASSWORD: 'a1b2c3d4e5f60718',
  MONGO_ROOT_PASSWORD: '0f1e2d3c4b5a6978',
  GRAFANA_ADMIN_PASSWORD: '9a8b7c6d5e4f3021',
} as const;

function composeConfig(
  validator: Validator,
  file: string,
  quiet: boolean,
  secrets: Readonly<Record<string, string>> = SECRETS,
): Promise<RunResult> {
  const env = { ...process.env };
  for (const name of Object.keys(SECRETS)) delete env[name];
  return run(validator.command, [...validator.prefix, '-f', file, 'config', ...(quiet ? ['-q'] : [])], {
    env: { ...env, ...secrets },
  });
}

function explain(result: RunResult): string {
  return [result.error?.message, result.stderr.trim(), result.stdout.trim()]
    .filter((text) => text !== undefined && text !== '')
    .join('\n');
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'"))
    return value.slice(1, -1).replaceAll("''", "'");
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return JSON.parse(value) as string;
  return value;
}

interface ServiceSummary {
  build: boolean;
  readonly environment: Map<string, string>;
}

/**
 * The services of `config`'s normalized output (block-style YAML from both Compose v1 and v2), with
 * whether each is built here and its environment. Only the shapes Compose itself prints are handled.
 */
function services(normalized: string): Map<string, ServiceSummary> {
  const found = new Map<string, ServiceSummary>();
  const indentOf = (line: string) => line.length - line.trimStart().length;
  let inServices = false;
  let serviceIndent = -1;
  let keyIndent = -1;
  let current: ServiceSummary | undefined;
  let inEnvironment = false;
  for (const line of normalized.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = indentOf(line);
    const text = line.trim();
    if (indent === 0) {
      inServices = text === 'services:';
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    if (serviceIndent < 0) serviceIndent = indent;
    if (indent === serviceIndent) {
      const name = /^["']?([^"':]+)["']?:$/.exec(text)?.[1];
      current = name === undefined ? undefined : { build: false, environment: new Map() };
      if (name !== undefined && current !== undefined) found.set(name, current);
      keyIndent = -1;
      inEnvironment = false;
      continue;
    }
    if (current === undefined) continue;
    if (keyIndent < 0) keyIndent = indent;
    if (indent === keyIndent) {
      inEnvironment = text === 'environment:';
      if (text === 'build:' || text.startsWith('build: ')) current.build = true;
      continue;
    }
    if (inEnvironment && indent > keyIndent) {
      const entry = /^(?:-\s*)?([A-Za-z_][A-Za-z0-9_]*)(?::\s*|=)(.*)$/.exec(text);
      if (entry?.[1] !== undefined) current.environment.set(entry[1], unquote((entry[2] ?? '').trim()));
    }
  }
  return found;
}

describe('compose/docker-compose.yml', () => {
  let validator: Validator | undefined;
  let missing = 'the validator lookup did not run';
  let scratch: string | undefined;

  beforeAll(async () => {
    const found = await findValidator();
    if (typeof found === 'string') missing = found;
    else validator = found;
    scratch = await mkdtemp(join(tmpdir(), 'kappa-compose-test-'));
  }, 300_000);

  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  /** Fails (never skips) when no Compose implementation could be found or installed. */
  function requireValidator(): Validator {
    if (validator === undefined) throw new Error(missing);
    return validator;
  }

  it('is valid for Compose (`config -q` exits 0)', async () => {
    const compose = requireValidator();
    const result = await composeConfig(compose, COMPOSE_FILE, true);
    expect(result.status, `${compose.label} config -q failed:\n${explain(result)}`).toBe(0);
  });

  it('makes the check fail on a broken copy (the validator really validates)', async () => {
    const compose = requireValidator();
    const original = await readFile(COMPOSE_FILE, 'utf8');
    const dir = scratch;
    if (dir === undefined) throw new Error('no scratch directory');
    // Control: the intact file, from the same directory as the broken ones, passes.
    const intact = join(dir, 'intact.yml');
    await writeFile(intact, original);
    const control = await composeConfig(compose, intact, true);
    expect(control.status, `the intact copy should pass:\n${explain(control)}`).toBe(0);

    const defects: Record<string, string> = {
      'depends-on-undefined': original.replace(
        /^services:\n/m,
        'services:\n  broken:\n    image: busybox\n    depends_on:\n      - no-such-service\n',
      ),
      'invalid-port': original.replace(/^(\s+- )"127\.0\.0\.1:3000:3000"$/m, '$1"127.0.0.1:3000:not-a-port"'),
    };
    for (const [name, text] of Object.entries(defects)) {
      expect(text, `defect ${name} was not applied`).not.toBe(original);
      const file = join(dir, `${name}.yml`);
      await writeFile(file, text);
      const result = await composeConfig(compose, file, true);
      expect(result.status, `${compose.label} accepted the ${name} defect:\n${explain(result)}`).not.toBe(0);
      expect(result.error, `${compose.label} did not run: ${result.error?.message ?? ''}`).toBeUndefined();
    }
  });

  it('runs Prometheus scraping the API and Grafana with its data source and the kappa dashboard mounted', async () => {
    const compose = requireValidator();
    const result = await composeConfig(compose, COMPOSE_FILE, false);
    expect(result.status, `${compose.label} config failed:\n${explain(result)}`).toBe(0);
    const all = services(result.stdout);
    expect(all.has('prometheus') && all.has('grafana'), 'services prometheus and grafana').toBe(true);
    const raw = await readFile(COMPOSE_FILE, 'utf8');
    // Every file mounted from the repository exists (a typo would mount an empty directory).
    const mounts = [...raw.matchAll(/^\s+- (\.\/[^:]+):/gm)].map((match) => match[1] ?? '');
    for (const file of ['./prometheus.yml', './grafana/provisioning', './grafana/kappa.json'])
      expect(mounts, `${file} is mounted`).toContain(file);
    for (const mount of mounts) expect(existsSync(join(ROOT, 'compose', mount)), mount).toBe(true);
    // Prometheus scrapes the api service on the port its `serve --port` listens on.
    const prometheus = await readFile(join(ROOT, 'compose', 'prometheus.yml'), 'utf8');
    const apiPort = /"serve", "--host", "0\.0\.0\.0", "--port", "(\d+)"/.exec(raw)?.[1];
    expect(prometheus).toContain(`"api:${apiPort ?? 'none'}"`);
    const datasource = await readFile(join(ROOT, 'compose', 'grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    expect(datasource).toContain('url: http://prometheus:9090');
    const dashboard = JSON.parse(await readFile(join(ROOT, 'compose', 'grafana', 'kappa.json'), 'utf8')) as {
      panels: { datasource: { uid: string } }[];
    };
    for (const panel of dashboard.panels) expect(datasource).toContain(`uid: ${panel.datasource.uid}`);
  });

  it('uses only KAPPA_* names that kappa knows (any other makes every command exit 2)', async () => {
    const raw = await readFile(COMPOSE_FILE, 'utf8');
    const names = raw
      .split('\n')
      .map((line) => /^\s*(?:-\s*)?(KAPPA_[A-Za-z0-9_]+)\s*[:=]/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(names.length, 'the compose file sets no KAPPA_* variable at all').toBeGreaterThan(0);
    const unknown = [...new Set(names.filter((name) => !KNOWN_ENV.has(name)))];
    expect(unknown, `unknown KAPPA_* names; the known ones are ${[...KNOWN_ENV].join(', ')}`).toEqual([]);
  });

  it('gives every stage a known, valid KAPPA_* environment (as Compose resolves it)', async () => {
    const compose = requireValidator();
    const result = await composeConfig(compose, COMPOSE_FILE, false);
    expect(result.status, `${compose.label} config failed:\n${explain(result)}`).toBe(0);
    const all = services(result.stdout);
    const stages = [...all]
      .filter(([, service]) => service.build)
      .map(([name]) => name)
      .sort();
    expect(stages, 'the services built from the Dockerfile').toEqual([...STAGES]);

    for (const name of STAGES) {
      const environment = all.get(name)?.environment ?? new Map<string, string>();
      const kappa = Object.fromEntries([...environment].filter(([key]) => key.startsWith('KAPPA_')));
      const unknown = Object.keys(kappa).filter((key) => !KNOWN_ENV.has(key));
      expect(unknown, `service ${name}: unknown KAPPA_* names`).toEqual([]);
      for (const required of ['KAPPA_KAFKA_BROKERS', 'KAPPA_REGISTRY_URL', 'KAPPA_MYSQL_URL', 'KAPPA_MONGODB_URL']) {
        expect(kappa[required], `service ${name} does not set ${required}`).toBeDefined();
      }
      expect(kappa['KAPPA_KAFKA_BROKERS'], `service ${name} must use the internal listeners`).toBe(
        'kafka-1:29092,kafka-2:29092,kafka-3:29092',
      );
      expect(kappa['KAPPA_TOPIC_REPLICATION'], `service ${name}: three replicas`).toBe('3');
      // Every value must pass kappa's own validation, exactly as the container would see it.
      expect(
        () => loadConfig(SETTING_KEYS, { env: kappa }),
        `service ${name}: a KAPPA_* value is invalid`,
      ).not.toThrow();
    }
  });

  it('is safe by default: ports on 127.0.0.1 only, no default passwords, MongoDB with auth', async () => {
    const compose = requireValidator();
    const raw = await readFile(COMPOSE_FILE, 'utf8');
    const published = [...raw.matchAll(/^\s+- "([^"]*:\d+)"$/gm)].map((match) => match[1] ?? '');
    expect(published.length).toBeGreaterThanOrEqual(9);
    for (const port of published) expect(port, 'published on loopback only').toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(raw).not.toMatch(/MYSQL_ROOT_PASSWORD:-/);
    expect(raw).toContain('MONGO_INITDB_ROOT_PASSWORD: ${MONGO_ROOT_PASSWORD:?');
    expect(raw).toContain('GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:?');
    // Compose itself refuses to run without each password, naming it.
    for (const missing of Object.keys(SECRETS)) {
      const secrets = Object.fromEntries(Object.entries(SECRETS).filter(([name]) => name !== missing));
      const result = await composeConfig(compose, COMPOSE_FILE, true, secrets);
      expect(result.status, `config -q without ${missing}`).not.toBe(0);
      expect(explain(result)).toContain(missing);
    }
  });

  it('runs three KRaft nodes, every one a voter, with three replicas and two in sync', async () => {
    const compose = requireValidator();
    const result = await composeConfig(compose, COMPOSE_FILE, false);
    expect(result.status, explain(result)).toBe(0);
    const all = services(result.stdout);
    for (const node of ['kafka-1', 'kafka-2', 'kafka-3']) {
      const environment = all.get(node)?.environment ?? new Map<string, string>();
      expect(environment.get('KAFKA_CONTROLLER_QUORUM_VOTERS'), node).toBe(
        '1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093',
      );
      expect(environment.get('KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR'), node).toBe('3');
      expect(environment.get('KAFKA_TRANSACTION_STATE_LOG_MIN_ISR'), node).toBe('2');
      expect(environment.get('KAFKA_MIN_INSYNC_REPLICAS'), node).toBe('2');
    }
  });
});
