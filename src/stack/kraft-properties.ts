export interface KraftSettings {
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
}

/**
 * server.properties for a single-node KRaft cluster (combined broker + controller) on loopback.
 * The replication-factor and min.isr overrides are what makes transactions work with one broker:
 * with Kafka's defaults (3 / 2) every transactional producer fails with COORDINATOR_NOT_AVAILABLE.
 */
export function renderServerProperties(settings: KraftSettings): string {
  const { host, port, controllerPort, dataDir } = settings;
  const entries: ReadonlyArray<readonly [string, string | number]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@${host}:${controllerPort}`],
    ['listeners', `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://${host}:${port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
    ['log.dirs', dataDir],
    ['offsets.topic.replication.factor', 1],
    ['offsets.topic.num.partitions', 5],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['transaction.state.log.num.partitions', 5],
    // Topics are created by kappa with their partitions and retention; a typo must not create one.
    ['auto.create.topics.enable', 'false'],
    ['group.initial.rebalance.delay.ms', 0],
    ['num.partitions', 3],
  ];
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
