import { resolveReplication } from '../kafka/replication.js';

export interface KraftSettings {
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** This node's id (1 for a single node). */
  readonly nodeId?: number;
  /** Every controller of the quorum as `id@host:port`; a single node votes alone. */
  readonly voters?: readonly string[];
  /** How many brokers the cluster has: sets the internal topics' replication (see below). */
  readonly brokers?: number;
  /** Extra or replaced keys (a SASL_SSL listener in tests); applied last, each key once. */
  readonly overrides?: Readonly<Record<string, string | number>>;
}

/**
 * The offsets and transaction-state topics' replication for a cluster of `brokers`: 3 / min.isr 2
 * from three brokers on (one broker may die without stopping transactions), the broker count
 * otherwise. With Kafka's defaults (3 / 2) on one broker every transactional producer fails with
 * COORDINATOR_NOT_AVAILABLE.
 */
export function internalReplication(brokers: number): { readonly factor: number; readonly minIsr: number } {
  const { factor, minInsync } = resolveReplication('auto', 'auto', brokers);
  return { factor, minIsr: minInsync };
}

/** server.properties for one combined broker + controller KRaft node on loopback. */
export function renderServerProperties(settings: KraftSettings): string {
  const { host, port, controllerPort, dataDir } = settings;
  const nodeId = settings.nodeId ?? 1;
  const internal = internalReplication(settings.brokers ?? 1);
  const base: ReadonlyArray<readonly [string, string | number]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', nodeId],
    ['controller.quorum.voters', (settings.voters ?? [`${nodeId}@${host}:${controllerPort}`]).join(',')],
    ['listeners', `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://${host}:${port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
    ['log.dirs', dataDir],
    ['offsets.topic.replication.factor', internal.factor],
    ['offsets.topic.num.partitions', 5],
    ['transaction.state.log.replication.factor', internal.factor],
    ['transaction.state.log.min.isr', internal.minIsr],
    ['transaction.state.log.num.partitions', 5],
    // Topics are created by kappa with their partitions and retention; a typo must not create one.
    ['auto.create.topics.enable', 'false'],
    ['group.initial.rebalance.delay.ms', 0],
    ['num.partitions', 3],
  ];
  const overrides = Object.entries(settings.overrides ?? {});
  const replaced = new Set(overrides.map(([key]) => key));
  const entries = [...base.filter(([key]) => !replaced.has(key)), ...overrides];
  return `${entries.map(([key, value]) => `${key}=${String(value)}`).join('\n')}\n`;
}

/** reload4j configuration: everything to stdout, which the launcher redirects into broker.log. */
export function renderLog4jProperties(): string {
  return [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.org.apache.kafka.clients=WARN',
    'log4j.logger.kafka.log.LogCleaner=WARN',
    '',
  ].join('\n');
}

/**
 * A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid format).
 * Kafka itself re-draws ids starting with "-" because they look like command-line flags.
 */
export function newClusterId(randomBytes: (size: number) => Buffer): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
