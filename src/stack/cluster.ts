import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { createKafka } from '../kafka/client.js';
import { KappaError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { isBrokerReachable, isNodeAlive, launchNode, stopNode, waitForNode } from './broker.js';
import { clusterNodePaths, readNodeState, type BrokerState } from './broker-state.js';
import { requireJava } from './java.js';
import { ensureKafkaJars } from './kafka-jars.js';
import { newClusterId } from './kraft-properties.js';
import { isPortFree } from './processes.js';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.js';

/** Ports of one node of a local cluster. */
export interface NodePorts {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
}

/**
 * `stack up --brokers N`: node n (1-based) listens on the broker and controller base ports plus
 * 2·(n−1) — 9092/9093, 9094/9095, 9096/9097 — so the one-node defaults stay node 1's.
 */
export function clusterPorts(nodes: number, basePort: number, baseControllerPort: number): readonly NodePorts[] {
  return Array.from({ length: nodes }, (_, index) => ({
    nodeId: index + 1,
    port: basePort + 2 * index,
    controllerPort: baseControllerPort + 2 * index,
  }));
}

/** `controller.quorum.voters`: every node votes (combined broker + controller). */
export function quorumVoters(host: string, ports: readonly NodePorts[]): readonly string[] {
  return ports.map((node) => `${node.nodeId}@${host}:${node.controllerPort}`);
}

const clusterStateSchema = z.object({
  clusterId: z.string(),
  host: z.string(),
  version: z.string(),
  nodes: z.array(z.object({ nodeId: z.number().int(), port: z.number().int(), controllerPort: z.number().int() })),
});

export type ClusterState = Readonly<z.infer<typeof clusterStateSchema>>;

function clusterStateFile(stateDir: string): string {
  return join(stateDir, 'kafka', 'cluster.json');
}

/** The local cluster recorded in the state directory (undefined: one node, or none). */
export function readClusterState(stateDir: string): Promise<ClusterState | undefined> {
  return readStateFile(clusterStateFile(stateDir), clusterStateSchema);
}

export interface StartClusterOptions {
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly version: string;
  readonly nodes: readonly NodePorts[];
  readonly heap: string;
  readonly startTimeoutMs: number;
  readonly host?: string;
  readonly logger?: Logger;
}

export interface StartClusterResult {
  readonly cluster: ClusterState;
  readonly nodes: readonly BrokerState[];
  readonly brokers: readonly string[];
  readonly alreadyRunning: boolean;
}

export function clusterBrokers(cluster: Pick<ClusterState, 'host' | 'nodes'>): readonly string[] {
  return cluster.nodes.map((node) => `${cluster.host}:${node.port}`);
}

/**
 * Starts (or completes) a local KRaft cluster of combined broker + controller nodes, each in
 * `<state>/kafka/node-N/`, and waits until every node answers and sees all the others. Nodes
 * already running are left alone; a stopped node is started again on its formatted storage.
 */
export async function startCluster(options: StartClusterOptions): Promise<StartClusterResult> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const recorded = await readClusterState(options.stateDir);
  if (recorded !== undefined && recorded.nodes.length !== options.nodes.length) {
    throw new KappaError(
      'KAPPA_BROKER_START_FAILED',
      `${options.stateDir} holds a cluster of ${recorded.nodes.length} nodes; stop it with kappa stack down --purge before starting ${options.nodes.length}`,
    );
  }
  const cluster: ClusterState = recorded ?? {
    clusterId: newClusterId(randomBytes),
    host,
    version: options.version,
    nodes: options.nodes.map((node) => ({ ...node })),
  };
  const voters = quorumVoters(cluster.host, cluster.nodes);
  const java = requireJava();
  const libs = await ensureKafkaJars(options.cacheDir, cluster.version, logger);
  await writeStateFile(clusterStateFile(options.stateDir), cluster);

  const states: BrokerState[] = [];
  let started = 0;
  for (const node of cluster.nodes) {
    const paths = clusterNodePaths(options.stateDir, node.nodeId);
    const existing = await readNodeState(paths);
    if (existing !== undefined && isNodeAlive(existing)) {
      states.push(existing);
      continue;
    }
    for (const port of [node.port, node.controllerPort]) {
      if (!(await isPortFree(cluster.host, port))) {
        await stopCluster({ stateDir: options.stateDir, timeoutMs: 10_000, logger });
        throw new KappaError(
          'KAPPA_BROKER_PORT_IN_USE',
          `port ${cluster.host}:${port} (node ${node.nodeId}) is already in use by another process; stop it or choose other base ports with --kafka-port / --controller-port`,
        );
      }
    }
    const state = await launchNode({
      paths,
      java,
      libs,
      host: cluster.host,
      port: node.port,
      controllerPort: node.controllerPort,
      heap: options.heap,
      version: cluster.version,
      clusterId: cluster.clusterId,
      nodeId: node.nodeId,
      voters,
      brokers: cluster.nodes.length,
    });
    started += 1;
    logger.info({ nodeId: node.nodeId, brokerPid: state.pid, port: node.port }, 'Kafka node starting');
    states.push(state);
  }
  const brokers = clusterBrokers(cluster);
  try {
    for (const state of states) await waitForNode(state, options.startTimeoutMs, logger);
    await waitForBrokerCount(brokers, cluster.nodes.length, options.startTimeoutMs);
  } catch (error) {
    await stopCluster({ stateDir: options.stateDir, timeoutMs: 10_000, logger });
    throw error;
  }
  return { cluster, nodes: states, brokers, alreadyRunning: started === 0 };
}

/** Waits until the cluster's metadata lists `count` brokers (every node registered). */
async function waitForBrokerCount(brokers: readonly string[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await countBrokers(brokers)) >= count) return;
    if (Date.now() >= deadline) {
      throw new KappaError(
        'KAPPA_BROKER_START_FAILED',
        `the cluster did not reach ${count} brokers within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function countBrokers(brokers: readonly string[]): Promise<number> {
  const admin = createKafka({ brokers, logger: silentLogger, retries: 0 }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface StopClusterOptions {
  readonly stateDir: string;
  readonly timeoutMs: number;
  readonly purge?: boolean;
  readonly logger?: Logger;
}

/**
 * Stops every node of the recorded cluster at once (SIGTERM, SIGKILL after the timeout): stopped
 * one by one, the last nodes wait for a controller quorum that is already gone.
 */
export async function stopCluster(options: StopClusterOptions): Promise<{ readonly stopped: number } | undefined> {
  const cluster = await readClusterState(options.stateDir);
  if (cluster === undefined) return undefined;
  const logger = options.logger ?? silentLogger;
  const results = await Promise.all(
    cluster.nodes.map((node) => stopNode(clusterNodePaths(options.stateDir, node.nodeId), options.timeoutMs, logger)),
  );
  if (options.purge === true) {
    await Promise.all(
      cluster.nodes.map((node) =>
        rm(clusterNodePaths(options.stateDir, node.nodeId).root, { recursive: true, force: true }),
      ),
    );
    await removeStateFile(clusterStateFile(options.stateDir));
  }
  return { stopped: results.filter((result) => result.wasRunning).length };
}

export interface NodeReport {
  readonly nodeId: number;
  readonly port: number;
  readonly running: boolean;
  readonly pid?: number;
  readonly activeController: boolean;
  readonly logFile: string;
}

export interface ClusterReport {
  readonly nodes: readonly NodeReport[];
  readonly reachable: boolean;
  /** The quorum leader (active controller), when a node could tell. */
  readonly activeController?: number;
  /** `topic[partition]` with fewer in-sync replicas than replicas, or without a leader. */
  readonly underReplicated: readonly string[];
}

/** What `stack status` shows of a local cluster. */
export async function clusterStatus(stateDir: string, cacheDir: string): Promise<ClusterReport | undefined> {
  const cluster = await readClusterState(stateDir);
  if (cluster === undefined) return undefined;
  const states = await Promise.all(
    cluster.nodes.map(async (node) => {
      const state = await readNodeState(clusterNodePaths(stateDir, node.nodeId));
      return state !== undefined && isNodeAlive(state) ? state : undefined;
    }),
  );
  const live = cluster.nodes.filter((_, index) => states[index] !== undefined);
  const brokers = clusterBrokers({ host: cluster.host, nodes: live });
  const reachable = live.length > 0 && (await isBrokerReachable(brokers));
  const activeController = reachable ? await quorumLeader(cacheDir, cluster.version, brokers) : undefined;
  const underReplicated = reachable ? await underReplicatedPartitions(brokers) : [];
  const nodes = cluster.nodes.map((node, index): NodeReport => {
    const state = states[index];
    return {
      nodeId: node.nodeId,
      port: node.port,
      running: state !== undefined,
      ...(state === undefined ? {} : { pid: state.pid }),
      activeController: activeController === node.nodeId,
      logFile: clusterNodePaths(stateDir, node.nodeId).logFile,
    };
  });
  return { nodes, reachable, ...(activeController === undefined ? {} : { activeController }), underReplicated };
}

/** Every partition whose in-sync replicas are fewer than its replicas, or that has no leader. */
export async function underReplicatedPartitions(brokers: readonly string[]): Promise<readonly string[]> {
  const admin = createKafka({ brokers, logger: silentLogger, retries: 1 }).admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata();
    return topics.flatMap((topic) =>
      topic.partitions
        .filter((partition) => partition.leader < 0 || partition.isr.length < partition.replicas.length)
        .map((partition) => `${topic.name}[${partition.partitionId}]`),
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The active controller (the KRaft quorum leader). Kafka answers a Metadata request in KRaft mode
 * with a random live broker as "controller" (KIP-590 forwarding), so kafkajs's describeCluster
 * cannot tell; Kafka's own MetadataQuorumCommand asks DescribeQuorum (KIP-595).
 */
export async function quorumLeader(
  cacheDir: string,
  version: string,
  brokers: readonly string[],
): Promise<number | undefined> {
  const libs = await ensureKafkaJars(cacheDir, version, silentLogger);
  const output = await new Promise<string>((resolve) => {
    const child = spawn(
      requireJava(),
      [
        '-Xmx64m',
        '-Dlog4j.configuration=file:/dev/null',
        '-cp',
        `${libs}/*`,
        'org.apache.kafka.tools.MetadataQuorumCommand',
        '--bootstrap-server',
        brokers.join(','),
        'describe',
        '--status',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    child.on('error', () => resolve(''));
  });
  return parseQuorumLeader(output);
}

/** `LeaderId: 2` from MetadataQuorumCommand's `describe --status` output. */
export function parseQuorumLeader(output: string): number | undefined {
  const match = /^LeaderId:\s*(\d+)\s*$/m.exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
