import { KafkaUnreachableError } from '../shared/errors.js';
import {
  KafkaJSConnectionError,
  KafkaJSNoBrokerAvailableError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from './kafkajs.js';

/** The error and its causes, outermost first (kafkajs wraps the last failure of its retrier in `cause`). */
function* causes(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current);) {
    seen.add(current);
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * Whether kafkajs failed because no broker answered — told by the error's type anywhere in its
 * cause chain (a connection error, a request that timed out, no broker available), never by its text.
 */
export function isBrokerUnreachable(error: unknown): boolean {
  for (const each of causes(error))
    if (
      each instanceof KafkaJSConnectionError ||
      each instanceof KafkaJSRequestTimeoutError ||
      each instanceof KafkaJSNoBrokerAvailableError
    )
      return true;
  return false;
}

/**
 * The broker's answers while a cluster moves leadership (a broker restarting, an election, replicas
 * catching up): each passes once the cluster settles. kafkajs retries them a few times, then gives up
 * with a non-retriable KafkaJSNumberOfRetriesExceeded, sooner than a restarted broker settles.
 */
const SETTLING = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
]);

/** Whether a broker's answer of one of `types` is anywhere in the cause chain (by the protocol error's type). */
function brokerAnswered(error: unknown, types: ReadonlySet<string>): boolean {
  for (const each of causes(error)) if (each instanceof KafkaJSProtocolError && types.has(each.type)) return true;
  return false;
}

/** Whether the brokers answered with one of those. */
export function isClusterSettling(error: unknown): boolean {
  return brokerAnswered(error, SETTLING);
}

const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION']);

/** Whether the brokers said the topic does not exist. */
export function isUnknownTopic(error: unknown): boolean {
  return brokerAnswered(error, UNKNOWN_TOPIC);
}

/**
 * For a step that waits out a broker outage: an unreachable broker, or a cluster still settling its
 * leaders, becomes a retriable KafkaUnreachableError (kafkajs gives up with a non-retriable error
 * once its own retries are spent); anything else is rethrown as it is.
 */
export function asKafkaError(error: unknown): never {
  if ((isBrokerUnreachable(error) || isClusterSettling(error)) && !(error instanceof KafkaUnreachableError))
    throw new KafkaUnreachableError(error instanceof Error ? error.message : String(error), { cause: error });
  throw error;
}

/** Whether the brokers refused our SASL credentials (anywhere in the cause chain). */
export function isAuthenticationFailure(error: unknown): boolean {
  for (const each of causes(error)) if (each instanceof KafkaJSSASLAuthenticationError) return true;
  return false;
}

/**
 * kafkajs's own words for a refused authentication ("SASL SCRAM SHA256 authentication failed: …"):
 * the mechanism and the broker's reason. kafkajs never puts the password in them.
 */
export function authFailureDetail(error: unknown): string {
  for (const each of causes(error)) if (each instanceof KafkaJSSASLAuthenticationError) return each.message;
  return 'authentication failed';
}
