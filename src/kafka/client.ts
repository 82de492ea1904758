import type { LogEntry, logCreator } from 'kafkajs';
import { Kafka, logLevel as KafkaLogLevel } from './kafkajs.js';
import type { Logger } from '../shared/logger.js';
import { kafkajsSecurity, type KafkaSecurity } from './security.js';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly logger: Logger;
  /** Connection timeout per attempt; kafkajs's 1 s default is short for a JVM warming up. */
  readonly connectionTimeoutMs?: number;
  readonly retries?: number;
  /** TLS / SASL for this client; without it, the process's (useKafkaSecurity), else plaintext. */
  readonly security?: KafkaSecurity;
}

let processSecurity: KafkaSecurity | undefined;

/**
 * Sets the TLS / SASL every client of this process gets from createKafka — the CLI calls it once
 * with the settings it loaded, so stages, the registry, the API and the commands' admin clients,
 * created deep inside their runners, all connect the same way without each being handed it.
 */
export function useKafkaSecurity(security: KafkaSecurity | undefined): void {
  processSecurity = security;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own log lines into our pino logger, one child per kafkajs namespace. */
function bridge(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...fields } = log;
      // kafkajs logs every error *response* (COORDINATOR_LOAD_IN_PROGRESS while a broker starts, …)
      // at ERROR before retrying it; the caller sees the outcome. Other errors are kept, as warnings:
      // kafkajs retries those too, and a final failure surfaces as a thrown error.
      // Connection errors (refused, reset) are retried the same way and end in a thrown error too.
      // A transactional producer aborts its transaction when a send gives up, so kafkajs's warning
      // about limited retries invalidating EoS does not apply to it (it does to plain idempotence,
      // where ingest uses unbounded retries).
      const retried = namespace === 'Connection' || message.startsWith('Limiting retries for the idempotent producer');
      const target = retried ? 'debug' : LEVELS[level] === 'error' ? 'warn' : (LEVELS[level] ?? 'info');
      logger.child({ component: 'kafkajs', namespace })[target](fields, message);
    };
}

export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId ?? 'kappa',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: bridge(options.logger),
    retry: { retries: options.retries ?? 5 },
    ...kafkajsSecurity(options.security ?? processSecurity),
  });
}
