import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../shared/logger.js';
import { isNodeAlive, startBroker, stopBroker } from './broker.js';
import { clusterNodePaths, readNodeState, type BrokerState } from './broker-state.js';
import { startCluster, stopCluster, type NodePorts } from './cluster.js';
import { freePort } from './processes.js';

export interface ThrowawayBroker {
  readonly brokers: string[];
  readonly state: BrokerState;
  /** What `startBroker` needs to start this broker again after a `stopBroker` (chaos tests). */
  readonly restart: {
    readonly stateDir: string;
    readonly cacheDir: string;
    readonly version: string;
    readonly port: number;
    readonly controllerPort: number;
    readonly heap: string;
  };
  /** Stops the broker and deletes everything it wrote. */
  stop(): Promise<void>;
}

export interface ThrowawayBrokerOptions {
  readonly cacheDir: string;
  readonly version: string;
  readonly heap?: string;
  readonly logger?: Logger;
}

/**
 * A broker on free ports with a fresh data directory in the system temp folder, for test runs
 * and benchmarks that must not touch (or collide with) the user's `kappa stack`.
 */
export async function startThrowawayBroker(options: ThrowawayBrokerOptions): Promise<ThrowawayBroker> {
  const stateDir = await mkdtemp(join(tmpdir(), 'kappa-broker-'));
  try {
    const restart = {
      stateDir,
      cacheDir: options.cacheDir,
      version: options.version,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: options.heap ?? '512m',
    };
    const { state } = await startBroker({
      ...restart,
      startTimeoutMs: 120_000,
      logger: options.logger ?? silentLogger,
    });
    return {
      brokers: [`${state.host}:${state.port}`],
      state,
      restart,
      stop: async () => {
        await stopBroker({ stateDir, timeoutMs: 30_000, purge: true });
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}

export interface ThrowawayCluster {
  readonly brokers: readonly string[];
  /** The node ids with their ports. */
  readonly nodes: readonly NodePorts[];
  /** The running JVM's pid of a node (undefined when it is not running). */
  pidOf(nodeId: number): Promise<number | undefined>;
  /** Starts the nodes that are not running again (on their data) and waits for the whole cluster. */
  restartStopped(): Promise<void>;
  /** Stops every node and deletes everything they wrote. */
  stop(): Promise<void>;
}

/**
 * A local KRaft cluster of `nodes` combined broker + controller nodes on free ports, in the system
 * temp folder: for the cluster tests (kill a partition leader, the active controller, …).
 */
export async function startThrowawayCluster(
  options: ThrowawayBrokerOptions & { readonly nodes: number },
): Promise<ThrowawayCluster> {
  const stateDir = await mkdtemp(join(tmpdir(), 'kappa-cluster-'));
  const logger = options.logger ?? silentLogger;
  const nodes: NodePorts[] = [];
  for (let nodeId = 1; nodeId <= options.nodes; nodeId += 1)
    nodes.push({ nodeId, port: await freePort(), controllerPort: await freePort() });
  const start = () =>
    startCluster({
      stateDir,
      cacheDir: options.cacheDir,
      version: options.version,
      nodes,
      heap: options.heap ?? '384m',
      startTimeoutMs: 180_000,
      logger,
    });
  try {
    const { brokers } = await start();
    return {
      brokers,
      nodes,
      pidOf: async (nodeId) => {
        const state = await readNodeState(clusterNodePaths(stateDir, nodeId));
        return state !== undefined && isNodeAlive(state) ? state.pid : undefined;
      },
      restartStopped: async () => {
        await start();
      },
      stop: async () => {
        await stopCluster({ stateDir, timeoutMs: 30_000, purge: true, logger });
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopCluster({ stateDir, timeoutMs: 10_000, purge: true });
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}
