import { rm } from 'node:fs/promises';
import type { Config } from '../../config/settings.js';
import { KappaError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { ClusterReport } from '../../stack/cluster.js';
import type { registryProcessStatus } from '../../stack/registry-process.js';
import { defineCommand } from '../command.js';

/** Loaded when run, not when the command line is parsed: `kappa --help` does not pay for kafkajs. */
async function loadStack() {
  const [broker, brokerState, cluster, registry, localStack] = await Promise.all([
    import('../../stack/broker.js'),
    import('../../stack/broker-state.js'),
    import('../../stack/cluster.js'),
    import('../../stack/registry-process.js'),
    import('../../stack/local-stack.js'),
  ]);
  return { ...broker, ...brokerState, ...cluster, ...registry, ...localStack };
}

/** What starting the local broker and registry reads: `kappa stack up`'s settings, and part of `kappa up`'s. */
export const STACK_SETTINGS = [
  'stateDir',
  'cacheDir',
  'kafkaVersion',
  'stackKafkaPort',
  'stackControllerPort',
  'stackKafkaHeap',
  'stackStartTimeout',
  'registryHost',
  'registryPort',
  'registryTopic',
] as const;

export const stackUp = defineCommand({
  name: 'stack up',
  summary:
    'Start the local Kafka broker (KRaft; --brokers 3 for a replicated cluster) and the schema registry in the background; idempotent',
  settings: [...STACK_SETTINGS, 'topicReplicationFactor'],
  options: [
    {
      flag: '--brokers <n>',
      doc: 'nodes of the local cluster (default 1); node n listens on the base ports + 2(n-1), heap --node-heap each',
    },
    { flag: '--node-heap <size>', doc: 'JVM heap of each node of a cluster of two or more (default 384m)' },
  ],
  run: async ({ config, options, logger, print }) => {
    const { startLocalRegistry } = await loadStack();
    const nodes = parseNodeCount(options['brokers']);
    const brokers =
      nodes === 1
        ? await startOneBroker(config, logger, print)
        : await startLocalCluster(config, nodes, options, logger, print);
    const registry = await startLocalRegistry(config, brokers, logger);
    print(
      `schema registry: ${registry.alreadyRunning ? 'already running' : 'started'} on ${registry.state.url} (pid ${registry.state.pid}, log ${registry.state.logFile})`,
    );
    if (nodes > 1) print(`use it with KAPPA_KAFKA_BROKERS=${brokers.join(',')}`);
    return 0;
  },
});

function parseNodeCount(value: unknown): number {
  if (value === undefined) return 1;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 9)
    throw new KappaError(
      'KAPPA_CONFIG_INVALID',
      `invalid --brokers ${JSON.stringify(value)}: expected a whole number from 1 to 9, e.g. 3`,
    );
  return count;
}

type StackConfig = Pick<Config, (typeof STACK_SETTINGS)[number]>;

async function startOneBroker(
  config: StackConfig,
  logger: Logger,
  print: (line: string) => void,
): Promise<readonly string[]> {
  const { readClusterState, startLocalBroker } = await loadStack();
  if ((await readClusterState(config.stateDir)) !== undefined)
    throw new KappaError(
      'KAPPA_BROKER_START_FAILED',
      `${config.stateDir} holds a local cluster: start it with kappa stack up --brokers N, or remove it with kappa stack down --purge`,
    );
  const broker = await startLocalBroker(config, logger);
  const { state } = broker;
  print(
    `kafka ${state.version}: ${broker.alreadyRunning ? 'already running' : 'started'} on ${state.host}:${state.port} (pid ${state.pid}, log ${state.logFile})`,
  );
  return [`${state.host}:${state.port}`];
}

async function startLocalCluster(
  config: StackConfig,
  nodes: number,
  options: Readonly<Record<string, unknown>>,
  logger: Logger,
  print: (line: string) => void,
): Promise<readonly string[]> {
  const { readBrokerState, startCluster, clusterPorts } = await loadStack();
  if ((await readBrokerState(config.stateDir)) !== undefined)
    throw new KappaError(
      'KAPPA_BROKER_START_FAILED',
      `${config.stateDir} holds a single local broker: stop it with kappa stack down (--purge to delete its data) first`,
    );
  const heap = typeof options['nodeHeap'] === 'string' ? options['nodeHeap'] : '384m';
  const result = await startCluster({
    stateDir: config.stateDir,
    cacheDir: config.cacheDir,
    version: config.kafkaVersion,
    nodes: clusterPorts(nodes, config.stackKafkaPort, config.stackControllerPort),
    heap,
    startTimeoutMs: config.stackStartTimeout,
    logger,
  });
  for (const node of result.nodes)
    print(
      `kafka ${node.version} node ${node.nodeId ?? '?'}: running on ${node.host}:${node.port} (pid ${node.pid}, log ${node.logFile})`,
    );
  print(`kafka cluster of ${nodes}: ${result.alreadyRunning ? 'already running' : 'started'}`);
  return result.brokers;
}

export const stackDown = defineCommand({
  name: 'stack down',
  summary: 'Stop the schema registry and the local broker gracefully (SIGTERM, then SIGKILL after 30 s)',
  settings: ['stateDir'],
  options: [{ flag: '--purge', doc: 'also delete the broker data (topics, offsets, registered schemas) and the logs' }],
  run: async ({ config, options, logger, print }) => {
    const { stopRegistryProcess, stopCluster, stopBroker, registryPaths } = await loadStack();
    const purge = options['purge'] === true;
    const registry = await stopRegistryProcess(config.stateDir, 30_000);
    print(`schema registry: ${registry.wasRunning ? 'stopped' : 'was not running'}`);
    const cluster = await stopCluster({ stateDir: config.stateDir, timeoutMs: 30_000, purge, logger });
    if (cluster !== undefined)
      print(`kafka cluster: ${cluster.stopped} node(s) stopped${purge ? '; data purged' : ''}`);
    const { wasRunning } = await stopBroker({ stateDir: config.stateDir, timeoutMs: 30_000, purge, logger });
    if (purge) await rm(registryPaths(config.stateDir).root, { recursive: true, force: true });
    if (cluster === undefined || wasRunning)
      print(`kafka: ${wasRunning ? 'stopped' : 'was not running'}${purge ? '; data purged' : ''}`);
    return 0;
  },
});

/** Exit codes follow the LSB convention for status actions: 0 all running, 3 something is not. */
export const stackStatus = defineCommand({
  name: 'stack status',
  summary: 'Report the local broker and schema registry: running, reachable, ports, pids (exit 0 running, 3 not)',
  settings: ['stateDir', 'cacheDir'],
  options: [{ flag: '--json', doc: 'print the status as one JSON object' }],
  run: async ({ config, options, print }) => {
    const { clusterStatus, registryProcessStatus, brokerStatus } = await loadStack();
    const cluster = await clusterStatus(config.stateDir, config.cacheDir);
    if (cluster !== undefined)
      return printClusterStatus(cluster, await registryProcessStatus(config.stateDir), options['json'] === true, print);
    const [kafka, registry] = await Promise.all([
      brokerStatus(config.stateDir),
      registryProcessStatus(config.stateDir),
    ]);
    if (options['json'] === true) {
      print(JSON.stringify({ kafka, registry }));
    } else {
      if (kafka.state === undefined) print('kafka: stopped');
      else {
        const { version, host, port, pid, dataDir, logFile } = kafka.state;
        print(
          `kafka ${version}: ${kafka.reachable ? 'running' : 'running but not answering'} on ${host}:${port} (pid ${pid}, data ${dataDir}, log ${logFile})`,
        );
      }
      if (registry.state === undefined) print('schema registry: stopped');
      else
        print(
          `schema registry: ${registry.reachable ? 'running' : 'running but not answering'} on ${registry.state.url} (pid ${registry.state.pid}, log ${registry.state.logFile})`,
        );
    }
    return kafka.running && registry.running ? 0 : 3;
  },
});

function printClusterStatus(
  cluster: ClusterReport,
  registry: Awaited<ReturnType<typeof registryProcessStatus>>,
  json: boolean,
  print: (line: string) => void,
): number {
  if (json) print(JSON.stringify({ cluster, registry }));
  else {
    for (const node of cluster.nodes) {
      const role = node.activeController ? 'active controller' : node.running ? 'broker, voter' : '';
      print(
        `kafka node ${node.nodeId}: ${node.running ? `running (pid ${node.pid ?? '?'})` : 'stopped'} on port ${node.port}${role === '' ? '' : `, ${role}`} (log ${node.logFile})`,
      );
    }
    const running = cluster.nodes.filter((node) => node.running).length;
    print(
      `kafka cluster: ${running} of ${cluster.nodes.length} nodes running${cluster.reachable ? '' : ', not answering'}; active controller ${cluster.activeController ?? 'unknown'}`,
    );
    print(
      cluster.underReplicated.length === 0
        ? 'under-replicated partitions: none'
        : `under-replicated partitions (${cluster.underReplicated.length}): ${cluster.underReplicated.join(', ')}`,
    );
    print(
      registry.state === undefined
        ? 'schema registry: stopped'
        : `schema registry: ${registry.reachable ? 'running' : 'running but not answering'} on ${registry.state.url} (pid ${registry.state.pid}, log ${registry.state.logFile})`,
    );
  }
  return cluster.nodes.every((node) => node.running) && registry.running ? 0 : 3;
}
