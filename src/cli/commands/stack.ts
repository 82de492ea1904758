import { rm } from 'node:fs/promises';
import { brokerStatus, startBroker, stopBroker } from '../../stack/broker.js';
import {
  registryPaths,
  registryProcessStatus,
  startRegistryProcess,
  stopRegistryProcess,
} from '../../stack/registry-process.js';
import { defineCommand } from '../command.js';

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
  summary: 'Start the local Kafka broker (single-node KRaft) and the schema registry in the background; idempotent',
  settings: [...STACK_SETTINGS, 'topicReplicationFactor'],
  run: async ({ config, logger, print }) => {
    const broker = await startBroker({
      stateDir: config.stateDir,
      cacheDir: config.cacheDir,
      version: config.kafkaVersion,
      port: config.stackKafkaPort,
      controllerPort: config.stackControllerPort,
      heap: config.stackKafkaHeap,
      startTimeoutMs: config.stackStartTimeout,
      logger,
    });
    const { state } = broker;
    print(
      `kafka ${state.version}: ${broker.alreadyRunning ? 'already running' : 'started'} on ${state.host}:${state.port} (pid ${state.pid}, log ${state.logFile})`,
    );
    const registry = await startRegistryProcess({
      stateDir: config.stateDir,
      brokers: [`${state.host}:${state.port}`],
      host: config.registryHost,
      port: config.registryPort,
      topic: config.registryTopic,
      replicationFactor: config.topicReplicationFactor,
      startTimeoutMs: config.stackStartTimeout,
      token: config.registryToken,
      logger,
    });
    print(
      `schema registry: ${registry.alreadyRunning ? 'already running' : 'started'} on ${registry.state.url} (pid ${registry.state.pid}, log ${registry.state.logFile})`,
    );
    return 0;
  },
});

export const stackDown = defineCommand({
  name: 'stack down',
  summary: 'Stop the schema registry and the local broker gracefully (SIGTERM, then SIGKILL after 30 s)',
  settings: ['stateDir'],
  options: [{ flag: '--purge', doc: 'also delete the broker data (topics, offsets, registered schemas) and the logs' }],
  run: async ({ config, options, logger, print }) => {
    const purge = options['purge'] === true;
    const registry = await stopRegistryProcess(config.stateDir, 30_000);
    print(`schema registry: ${registry.wasRunning ? 'stopped' : 'was not running'}`);
    const { wasRunning } = await stopBroker({ stateDir: config.stateDir, timeoutMs: 30_000, purge, logger });
    if (purge) await rm(registryPaths(config.stateDir).root, { recursive: true, force: true });
    print(`kafka: ${wasRunning ? 'stopped' : 'was not running'}${purge ? '; data purged' : ''}`);
    return 0;
  },
});

/** Exit codes follow the LSB convention for status actions: 0 all running, 3 something is not. */
export const stackStatus = defineCommand({
  name: 'stack status',
  summary: 'Report the local broker and schema registry: running, reachable, ports, pids (exit 0 running, 3 not)',
  settings: ['stateDir'],
  options: [{ flag: '--json', doc: 'print the status as one JSON object' }],
  run: async ({ config, options, print }) => {
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
