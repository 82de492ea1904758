import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../kafka/client.js';
import { KappaError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { brokerPaths, clearBrokerState, readBrokerState, writeBrokerState, type BrokerState } from './broker-state.js';
import { requireJava } from './java.js';
import { ensureKafkaJars } from './kafka-jars.js';
import { isPortFree, isProcessAlive, spawnDetached, tailFile, terminate } from './processes.js';
import { newClusterId, renderLog4jProperties, renderServerProperties } from './kraft-properties.js';

/** The JVM main class; also how we recognise our broker in /proc before signalling a pid. */
const BROKER_MAIN = 'kafka.Kafka';

export interface StartBrokerOptions {
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly version: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly heap: string;
  readonly startTimeoutMs: number;
  readonly host?: string;
  readonly logger?: Logger;
}

export interface StartBrokerResult {
  readonly state: BrokerState;
  readonly alreadyRunning: boolean;
}

export interface BrokerStatus {
  readonly running: boolean;
  readonly reachable: boolean;
  readonly state?: BrokerState;
}

/** The lines of a JVM tool's output that explain a failure: exceptions and errors, no stack frames. */
function problemLines(output: string): string {
  const lines = output.split('\n').filter((line) => !/^\s+at /.test(line) && line.trim() !== '');
  const problems = lines.filter((line) => /exception|error/i.test(line));
  return (problems.length > 0 ? problems : lines).slice(-10).join('\n');
}

/** One metadata round trip with a kafkajs admin client: the broker is up when this answers. */
export async function isBrokerReachable(brokers: readonly string[], timeoutMs = 3_000): Promise<boolean> {
  const admin = createKafka({ brokers, logger: silentLogger, connectionTimeoutMs: timeoutMs, retries: 0 }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function requireFreePorts(host: string, ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(host, port))) {
      throw new KappaError(
        'KAPPA_BROKER_PORT_IN_USE',
        `port ${host}:${port} is already in use by another process; stop it or choose other ports with KAPPA_STACK_KAFKA_PORT / KAPPA_STACK_CONTROLLER_PORT (--kafka-port / --controller-port)`,
      );
    }
  }
}

/**
 * Formats the KRaft metadata directory the first time. Kafka 3.9's `--ignore-formatted` still
 * fails when the new cluster id differs from the stored one, so a formatted directory (it has a
 * meta.properties) is left alone instead.
 */
function formatStorage(java: string, libs: string, stateDir: string): void {
  const paths = brokerPaths(stateDir);
  if (existsSync(join(paths.dataDir, 'meta.properties'))) return;
  const result = spawnSync(
    java,
    [
      `-Dlog4j.configuration=file:${paths.log4jProperties}`,
      '-cp',
      `${libs}/*`,
      'kafka.tools.StorageTool',
      'format',
      '--ignore-formatted',
      '-t',
      newClusterId(randomBytes),
      '-c',
      paths.serverProperties,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new KappaError(
      'KAPPA_BROKER_FORMAT_FAILED',
      `formatting KRaft storage in ${paths.dataDir} failed:\n${problemLines(`${result.stdout}${result.stderr}`)}`,
    );
  }
}

function launch(java: string, libs: string, stateDir: string, heap: string): number {
  const paths = brokerPaths(stateDir);
  const args = [
    `-Xmx${heap}`,
    `-Xms${heap}`,
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${paths.log4jProperties}`,
    '-cp',
    `${libs}/*`,
    BROKER_MAIN,
    paths.serverProperties,
  ];
  const pid = spawnDetached(java, args, paths.logFile);
  if (pid === undefined) throw new KappaError('KAPPA_BROKER_START_FAILED', `could not start ${java}`);
  return pid;
}

async function waitUntilReady(state: BrokerState, timeoutMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const brokers = [`${state.host}:${state.port}`];
  let attempt = 0;
  for (;;) {
    if (!isProcessAlive(state.pid, BROKER_MAIN)) {
      throw new KappaError(
        'KAPPA_BROKER_START_FAILED',
        `the Kafka broker exited during start-up; last lines of ${state.logFile}:\n${await tailFile(state.logFile, 20)}`,
      );
    }
    if (await isBrokerReachable(brokers)) return;
    if (Date.now() >= deadline) {
      throw new KappaError(
        'KAPPA_BROKER_START_FAILED',
        `the Kafka broker did not answer on ${brokers[0] ?? ''} within ${timeoutMs} ms; see ${state.logFile}`,
      );
    }
    attempt += 1;
    if (attempt % 10 === 0)
      logger.info(
        { brokerPid: state.pid, waitedMs: timeoutMs - (deadline - Date.now()) },
        'waiting for the Kafka broker',
      );
    await sleep(250);
  }
}

/** Live status of the broker recorded in the state directory. */
export async function brokerStatus(stateDir: string): Promise<BrokerStatus> {
  const state = await readBrokerState(stateDir);
  if (state === undefined || !isProcessAlive(state.pid, BROKER_MAIN)) return { running: false, reachable: false };
  return { running: true, reachable: await isBrokerReachable([`${state.host}:${state.port}`]), state };
}

/**
 * Starts a single-node KRaft broker in the background (fetching the jars and formatting storage
 * the first time) and waits until a kafkajs admin client sees the cluster. Idempotent: when the
 * recorded broker is already running, it is reported and left alone.
 */
export async function startBroker(options: StartBrokerOptions): Promise<StartBrokerResult> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const existing = await readBrokerState(options.stateDir);
  if (existing !== undefined && isProcessAlive(existing.pid, BROKER_MAIN)) {
    await waitUntilReady(existing, options.startTimeoutMs, logger);
    return { state: existing, alreadyRunning: true };
  }
  await clearBrokerState(options.stateDir);

  await requireFreePorts(host, [options.port, options.controllerPort]);
  const java = requireJava();
  const libs = await ensureKafkaJars(options.cacheDir, options.version, logger);

  const paths = brokerPaths(options.stateDir);
  await mkdir(paths.dataDir, { recursive: true });
  await writeFile(
    paths.serverProperties,
    renderServerProperties({
      host,
      port: options.port,
      controllerPort: options.controllerPort,
      dataDir: paths.dataDir,
    }),
  );
  await writeFile(paths.log4jProperties, renderLog4jProperties());
  formatStorage(java, libs, options.stateDir);

  const pid = launch(java, libs, options.stateDir, options.heap);
  const state: BrokerState = {
    pid,
    host,
    port: options.port,
    controllerPort: options.controllerPort,
    version: options.version,
    dataDir: paths.dataDir,
    logFile: paths.logFile,
    startedAt: new Date().toISOString(),
  };
  await writeBrokerState(options.stateDir, state);
  logger.info({ brokerPid: pid, port: options.port, logFile: paths.logFile }, 'Kafka broker starting');
  try {
    await waitUntilReady(state, options.startTimeoutMs, logger);
  } catch (error) {
    await stopBroker({ stateDir: options.stateDir, timeoutMs: 10_000 });
    throw error;
  }
  return { state, alreadyRunning: false };
}

export interface StopBrokerOptions {
  readonly stateDir: string;
  readonly timeoutMs: number;
  /** Also delete the broker's data (topics, offsets) and its files. */
  readonly purge?: boolean;
  readonly logger?: Logger;
}

/**
 * Stops the recorded broker: SIGTERM (Kafka's controlled shutdown), then SIGKILL if it has not
 * exited within the timeout. Stopping a broker that is not running is not an error.
 */
export async function stopBroker(options: StopBrokerOptions): Promise<{ readonly wasRunning: boolean }> {
  const logger = options.logger ?? silentLogger;
  const state = await readBrokerState(options.stateDir);
  let wasRunning = false;
  if (state !== undefined && isProcessAlive(state.pid, BROKER_MAIN)) {
    wasRunning = true;
    const warn = () =>
      logger.warn({ brokerPid: state.pid, timeoutMs: options.timeoutMs }, 'Kafka broker ignored SIGTERM; killing it');
    if (!(await terminate(state.pid, BROKER_MAIN, options.timeoutMs, warn))) {
      throw new KappaError(
        'KAPPA_BROKER_STOP_FAILED',
        `the Kafka broker (pid ${state.pid}) did not exit after SIGKILL`,
      );
    }
  }
  await clearBrokerState(options.stateDir);
  if (options.purge === true) await rm(brokerPaths(options.stateDir).root, { recursive: true, force: true });
  return { wasRunning };
}
