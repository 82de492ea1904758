import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { SETTINGS } from '../config/settings.js';
import { KAFKA_SECURITY_SETTINGS, type KafkaSecuritySettings } from '../kafka/security.js';
import { KappaError } from '../shared/errors.js';
import { KAPPA_BIN } from '../shared/kappa-bin.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { isPortFree, isProcessAlive, spawnDetached, tailFile, terminate } from './processes.js';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.js';
import type { Replication } from '../kafka/replication.js';

/** What /proc/<pid>/cmdline holds for our registry: `node …/kappa.js registry …` (bin/ or bin/dev/), NUL-separated. */
const REGISTRY_MARKER = 'kappa.js\u0000registry';

export function registryPaths(stateDir: string) {
  const root = join(stateDir, 'registry');
  return { root, logFile: join(root, 'registry.log'), stateFile: join(root, 'registry.json') } as const;
}

const registryStateSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string(),
  topic: z.string(),
  logFile: z.string(),
  startedAt: z.string(),
});

export type RegistryProcessState = Readonly<z.infer<typeof registryStateSchema>>;

export interface StartRegistryProcessOptions {
  readonly stateDir: string;
  readonly brokers: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly topic: string;
  readonly replicationFactor: Replication;
  readonly startTimeoutMs: number;
  /** Handed to the registry in its environment (KAPPA_REGISTRY_TOKEN), never on its command line. */
  readonly token?: string;
  /**
   * TLS / SASL to `brokers`, handed to the registry in its environment (a password never on its
   * command line). Absent: plaintext — the local stack's brokers.
   */
  readonly security?: KafkaSecuritySettings;
  readonly logger?: Logger;
}

/**
 * The registry child's environment: this process's, with the token and the Kafka security settings
 * replaced by the ones resolved here (from flags, environment or files). Inherited KAPPA_KAFKA_SSL_* /
 * KAPPA_KAFKA_SASL_* would otherwise apply to brokers they were not meant for (a shell set up for a
 * managed cluster running `kappa stack up`), and flags given to `kappa up` would not reach the child.
 */
export function registryChildEnv(
  parent: NodeJS.ProcessEnv,
  options: Pick<StartRegistryProcessOptions, 'token' | 'security'>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...parent };
  delete env['KAPPA_REGISTRY_TOKEN_FILE'];
  if ((options.token ?? '') === '') delete env['KAPPA_REGISTRY_TOKEN'];
  else env['KAPPA_REGISTRY_TOKEN'] = options.token;
  for (const key of KAFKA_SECURITY_SETTINGS) {
    const { env: name, default: fallback } = SETTINGS[key];
    delete env[name];
    const value = options.security?.[key];
    if (value !== undefined && value !== fallback) env[name] = value;
  }
  return env;
}

/** Whether a schema registry answers at `url` (GET /subjects within 2 s). */
export async function registryAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

function readState(stateDir: string): Promise<RegistryProcessState | undefined> {
  return readStateFile(registryPaths(stateDir).stateFile, registryStateSchema);
}

async function waitUntilAnswering(state: RegistryProcessState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await registryAnswers(state.url))) {
    if (!isProcessAlive(state.pid, REGISTRY_MARKER)) {
      throw new KappaError(
        'KAPPA_REGISTRY_START_FAILED',
        `the schema registry exited during start-up; last lines of ${state.logFile}:\n${await tailFile(state.logFile, 15)}`,
      );
    }
    if (Date.now() >= deadline)
      throw new KappaError(
        'KAPPA_REGISTRY_START_FAILED',
        `the schema registry did not answer on ${state.url} within ${timeoutMs} ms; see ${state.logFile}`,
      );
    await sleep(200);
  }
}

/**
 * Starts the bundled schema registry (`kappa registry`) in the background against the given
 * brokers and waits until it answers. Idempotent like the broker: a running one is left alone.
 */
export async function startRegistryProcess(
  options: StartRegistryProcessOptions,
): Promise<{ state: RegistryProcessState; alreadyRunning: boolean }> {
  const paths = registryPaths(options.stateDir);
  const existing = await readState(options.stateDir);
  if (existing !== undefined && isProcessAlive(existing.pid, REGISTRY_MARKER)) {
    await waitUntilAnswering(existing, options.startTimeoutMs);
    return { state: existing, alreadyRunning: true };
  }
  if (!(await isPortFree(options.host, options.port))) {
    throw new KappaError(
      'KAPPA_REGISTRY_PORT_IN_USE',
      `port ${options.host}:${options.port} is already in use by another process; stop it or choose another with KAPPA_REGISTRY_PORT (--registry-port)`,
    );
  }
  await mkdir(paths.root, { recursive: true });
  const args = [
    KAPPA_BIN,
    'registry',
    '--brokers',
    options.brokers.join(','),
    '--registry-host',
    options.host,
    '--registry-port',
    String(options.port),
    '--registry-topic',
    options.topic,
    '--replication-factor',
    String(options.replicationFactor),
    '--log-format',
    'json',
  ];
  // The token and the SASL password travel in the environment: a command line shows in `ps` to every user.
  const env = registryChildEnv(process.env, options);
  const pid = spawnDetached(process.execPath, args, paths.logFile, env);
  if (pid === undefined) throw new KappaError('KAPPA_REGISTRY_START_FAILED', `could not start ${process.execPath}`);
  const state: RegistryProcessState = {
    pid,
    url: `http://${options.host}:${options.port}`,
    topic: options.topic,
    logFile: paths.logFile,
    startedAt: new Date().toISOString(),
  };
  await writeStateFile(paths.stateFile, state);
  (options.logger ?? silentLogger).info({ registryPid: pid, url: state.url }, 'schema registry starting');
  try {
    await waitUntilAnswering(state, options.startTimeoutMs);
  } catch (error) {
    await stopRegistryProcess(options.stateDir, 10_000);
    throw error;
  }
  return { state, alreadyRunning: false };
}

export async function stopRegistryProcess(
  stateDir: string,
  timeoutMs: number,
): Promise<{ readonly wasRunning: boolean }> {
  const state = await readState(stateDir);
  const wasRunning = state !== undefined && isProcessAlive(state.pid, REGISTRY_MARKER);
  if (state !== undefined && !(await terminate(state.pid, REGISTRY_MARKER, timeoutMs))) {
    throw new KappaError(
      'KAPPA_REGISTRY_STOP_FAILED',
      `the schema registry (pid ${state.pid}) did not exit after SIGKILL`,
    );
  }
  await removeStateFile(registryPaths(stateDir).stateFile);
  return { wasRunning };
}

export async function registryProcessStatus(
  stateDir: string,
): Promise<{ running: boolean; reachable: boolean; state?: RegistryProcessState }> {
  const state = await readState(stateDir);
  if (state === undefined || !isProcessAlive(state.pid, REGISTRY_MARKER)) return { running: false, reachable: false };
  return { running: true, reachable: await registryAnswers(state.url), state };
}
