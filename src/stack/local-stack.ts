import type { Replication } from '../kafka/replication.js';
import type { KafkaSecuritySettings } from '../kafka/security.js';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isBrokerReachable, startBroker, stopBroker, type StartBrokerResult } from './broker.js';
import {
  registryAnswers,
  startRegistryProcess,
  stopRegistryProcess,
  type RegistryProcessState,
} from './registry-process.js';

/** What the local broker starts from: the settings of these names (`kappa stack up`, `kappa up`). */
export interface LocalBrokerSettings {
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly kafkaVersion: string;
  readonly stackKafkaPort: number;
  readonly stackControllerPort: number;
  readonly stackKafkaHeap: string;
  readonly stackStartTimeout: number;
}

/** What the local schema registry starts from, likewise. */
export interface LocalRegistrySettings {
  readonly stateDir: string;
  readonly stackStartTimeout: number;
  readonly registryHost: string;
  readonly registryPort: number;
  readonly registryTopic: string;
  readonly registryToken?: string | undefined;
  readonly topicReplicationFactor: Replication;
}

export type LocalStackSettings = LocalBrokerSettings & LocalRegistrySettings;

/** The local single-node broker (idempotent: one already running is reported, not started again). */
export function startLocalBroker(settings: LocalBrokerSettings, logger: Logger): Promise<StartBrokerResult> {
  return startBroker({
    stateDir: settings.stateDir,
    cacheDir: settings.cacheDir,
    version: settings.kafkaVersion,
    port: settings.stackKafkaPort,
    controllerPort: settings.stackControllerPort,
    heap: settings.stackKafkaHeap,
    startTimeoutMs: settings.stackStartTimeout,
    logger,
  });
}

/**
 * The local schema registry on `brokers` (idempotent like the broker). `security`: the brokers'
 * TLS / SASL settings, handed to the child in its environment; none for the local stack's own
 * plaintext brokers (whatever the shell holds for another cluster is not passed on).
 */
export function startLocalRegistry(
  settings: LocalRegistrySettings,
  brokers: readonly string[],
  logger: Logger,
  security?: KafkaSecuritySettings,
): Promise<{ readonly state: RegistryProcessState; readonly alreadyRunning: boolean }> {
  return startRegistryProcess({
    stateDir: settings.stateDir,
    brokers,
    host: settings.registryHost,
    port: settings.registryPort,
    topic: settings.registryTopic,
    replicationFactor: settings.topicReplicationFactor,
    startTimeoutMs: settings.stackStartTimeout,
    token: settings.registryToken,
    ...(security === undefined ? {} : { security }),
    logger,
  });
}

/**
 * `kappa up`'s Kafka and registry: the configured ones when they answer, else the local stack's
 * when that is what is configured (else a refusal naming both). Resolves to what stops what it
 * started, registry before broker; nothing for what was already running. A failing start stops
 * what it had started before it throws.
 */
export async function ensureStack(
  settings: LocalStackSettings &
    KafkaSecuritySettings & { readonly kafkaBrokers: readonly string[]; readonly registryUrl: string },
  logger: Logger,
  print: (line: string) => void,
): Promise<(() => Promise<unknown>)[]> {
  const stops: (() => Promise<unknown>)[] = [];
  try {
    await startMissing(settings, logger, print, stops);
  } catch (error) {
    for (const stop of stops)
      await stop().catch((failure: unknown) => logger.warn({ err: failure }, 'stopping failed'));
    throw error;
  }
  return stops;
}

async function startMissing(
  settings: Parameters<typeof ensureStack>[0],
  logger: Logger,
  print: (line: string) => void,
  stops: (() => Promise<unknown>)[],
): Promise<void> {
  const localBroker = `127.0.0.1:${settings.stackKafkaPort}`;
  if (!(await isBrokerReachable(settings.kafkaBrokers))) {
    if (settings.kafkaBrokers.length !== 1 || settings.kafkaBrokers[0] !== localBroker) {
      throw new KappaError(
        'KAPPA_BROKER_START_FAILED',
        `Kafka at ${settings.kafkaBrokers.join(',')} does not answer (and is not the local stack's ${localBroker}, which kappa up would start)`,
      );
    }
    print(`starting the local Kafka broker on ${localBroker} (first run: fetching the jars takes a minute)…`);
    const broker = await startLocalBroker(settings, logger);
    if (!broker.alreadyRunning)
      stops.unshift(() => stopBroker({ stateDir: settings.stateDir, timeoutMs: 30_000, logger }));
  }
  if (!(await registryAnswers(settings.registryUrl))) {
    const localRegistry = `http://${settings.registryHost}:${settings.registryPort}`;
    if (settings.registryUrl !== localRegistry)
      throw new KappaError(
        'KAPPA_REGISTRY_START_FAILED',
        `the schema registry at ${settings.registryUrl} does not answer (and is not the local ${localRegistry}, which kappa up would start)`,
      );
    // The brokers kappa up was given, with their TLS / SASL (flags included).
    const registry = await startLocalRegistry(settings, settings.kafkaBrokers, logger, settings);
    if (!registry.alreadyRunning) stops.unshift(() => stopRegistryProcess(settings.stateDir, 30_000));
  }
}
