import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../kafka/client.js';
import { KappaError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import {
  brokerPaths,
  clearNodeState,
  readNodeState,
  writeNodeState,
  type BrokerState,
  type NodePaths,
} from './broker-state.js';
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
  /** server.properties keys to add or replace (a SASL_SSL listener in tests). */
  readonly overrides?: Readonly<Record<string, string | number>>;
  /** Extra arguments of the storage format (e.g. `--add-scram` for a SCRAM user). */
  readonly formatArgs?: readonly string[];
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
 * meta.properties) is left alone instead. `extraArgs`: e.g. `--add-scram` for a test's SASL user.
 */
function formatStorage(
  java: string,
  libs: string,
  paths: NodePaths,
  clusterId: string,
  extraArgs: readonly string[],
): void {
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
      clusterId,
      '-c',
      paths.serverProperties,
      ...extraArgs,
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

function launch(java: string, libs: string, paths: NodePaths, heap: string): number {
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

/** Polls until a kafkajs admin client on `brokers` sees the cluster, failing early if the node exits. */
export async function waitForNode(
  state: BrokerState,
  timeoutMs: number,
  logger: Logger,
  brokers: readonly string[] = [`${state.host}:${state.port}`],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
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
        `the Kafka broker did not answer on ${brokers.join(',')} within ${timeoutMs} ms; see ${state.logFile}`,
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
  return nodeStatus(brokerPaths(stateDir));
}

/** Live status of the node recorded in `paths`. */
export async function nodeStatus(paths: NodePaths): Promise<BrokerStatus> {
  const state = await readNodeState(paths);
  if (state === undefined || !isProcessAlive(state.pid, BROKER_MAIN)) return { running: false, reachable: false };
  return { running: true, reachable: await isBrokerReachable([`${state.host}:${state.port}`]), state };
}

/** Whether the node recorded in `state` runs (a recorded pid that is still our broker). */
export function isNodeAlive(state: BrokerState): boolean {
  return isProcessAlive(state.pid, BROKER_MAIN);
}

export interface LaunchNodeOptions {
  readonly paths: NodePaths;
  readonly java: string;
  readonly libs: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly heap: string;
  readonly version: string;
  readonly clusterId: string;
  readonly nodeId?: number;
  readonly voters?: readonly string[];
  readonly brokers?: number;
  readonly overrides?: Readonly<Record<string, string | number>>;
  readonly formatArgs?: readonly string[];
}

/**
 * Writes a node's configuration, formats its storage the first time and starts its JVM in the
 * background; does not wait (a node of a cluster answers only once a quorum of voters runs).
 */
export async function launchNode(options: LaunchNodeOptions): Promise<BrokerState> {
  const { paths, host } = options;
  await mkdir(paths.dataDir, { recursive: true });
  await writeFile(
    paths.serverProperties,
    renderServerProperties({
      host,
      port: options.port,
      controllerPort: options.controllerPort,
      dataDir: paths.dataDir,
      ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
      ...(options.voters === undefined ? {} : { voters: options.voters }),
      ...(options.brokers === undefined ? {} : { brokers: options.brokers }),
      ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
    }),
  );
  await writeFile(paths.log4jProperties, renderLog4jProperties());
  formatStorage(options.java, options.libs, paths, options.clusterId, options.formatArgs ?? []);
  const pid = launch(options.java, options.libs, paths, options.heap);
  const state: BrokerState = {
    pid,
    host,
    port: options.port,
    controllerPort: options.controllerPort,
    version: options.version,
    dataDir: paths.dataDir,
    logFile: paths.logFile,
    startedAt: new Date().toISOString(),
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
  };
  await writeNodeState(paths, state);
  return state;
}

/**
 * Starts a single-node KRaft broker in the background (fetching the jars and formatting storage
 * the first time) and waits until a kafkajs admin client sees the cluster. Idempotent: when the
 * recorded broker is already running, it is reported and left alone.
 */
export async function startBroker(options: StartBrokerOptions): Promise<StartBrokerResult> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const paths = brokerPaths(options.stateDir);
  const existing = await readNodeState(paths);
  if (existing !== undefined && isProcessAlive(existing.pid, BROKER_MAIN)) {
    await waitForNode(existing, options.startTimeoutMs, logger);
    return { state: existing, alreadyRunning: true };
  }
  await clearNodeState(paths);

  await requireFreePorts(host, [options.port, options.controllerPort]);
  const java = requireJava();
  const libs = await ensureKafkaJars(options.cacheDir, options.version, logger);
  const state = await launchNode({
    paths,
    java,
    libs,
    host,
    port: options.port,
    controllerPort: options.controllerPort,
    heap: options.heap,
    version: options.version,
    clusterId: newClusterId(randomBytes),
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
    ...(options.formatArgs === undefined ? {} : { formatArgs: options.formatArgs }),
  });
  logger.info({ brokerPid: state.pid, port: options.port, logFile: paths.logFile }, 'Kafka broker starting');
  try {
    await waitForNode(state, options.startTimeoutMs, logger);
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
  const paths = brokerPaths(options.stateDir);
  const { wasRunning } = await stopNode(paths, options.timeoutMs, options.logger ?? silentLogger);
  if (options.purge === true) await rm(paths.root, { recursive: true, force: true });
  return { wasRunning };
}

/** Stops the node recorded in `paths` (SIGTERM, SIGKILL after the timeout) and forgets its state. */
export async function stopNode(
  paths: NodePaths,
  timeoutMs: number,
  logger: Logger,
): Promise<{ readonly wasRunning: boolean }> {
  const state = await readNodeState(paths);
  let wasRunning = false;
  if (state !== undefined && isProcessAlive(state.pid, BROKER_MAIN)) {
    wasRunning = true;
    const warn = () => logger.warn({ brokerPid: state.pid, timeoutMs }, 'Kafka broker ignored SIGTERM; killing it');
    if (!(await terminate(state.pid, BROKER_MAIN, timeoutMs, warn))) {
      throw new KappaError(
        'KAPPA_BROKER_STOP_FAILED',
        `the Kafka broker (pid ${state.pid}) did not exit after SIGKILL`,
      );
    }
  }
  await clearNodeState(paths);
  return { wasRunning };
}
