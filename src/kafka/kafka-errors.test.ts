import { describe, expect, it } from 'vitest';
import { KafkaUnreachableError } from '../shared/errors.js';
import { asKafkaError, isBrokerUnreachable, isClusterSettling, isUnknownTopic } from './kafka-errors.js';
import {
  checkKafkajsVersion,
  KAFKAJS_FIXED_FOR,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  partitionGroupingInstalled,
  readCommittedFilterInstalled,
} from './kafkajs.js';

/** An error as kafkajs's protocol decoder makes it from a broker's error code. */
const brokerError = (type: string, retriable: boolean) =>
  Object.assign(new Error(`${type} from the broker`), { type, code: 0, retriable });

/** What kafkajs throws once its retrier gives up connecting. */
const gaveUp = () =>
  new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), {
    retryCount: 5,
    retryTime: 100,
  });

describe('isBrokerUnreachable', () => {
  it('finds a connection error by its type anywhere in the cause chain', () => {
    expect(isBrokerUnreachable(new KafkaJSConnectionError('Connection timeout'))).toBe(true);
    expect(isBrokerUnreachable(gaveUp())).toBe(true);
    expect(isBrokerUnreachable(new Error('outer', { cause: gaveUp() }))).toBe(true);
  });

  it('never judges by message text', () => {
    expect(isBrokerUnreachable(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(false);
    expect(
      isBrokerUnreachable(new KafkaJSProtocolError('This server does not host this topic-partition: ECONNREFUSED')),
    ).toBe(false);
    expect(isBrokerUnreachable(undefined)).toBe(false);
  });

  it('asKafkaError makes an unreachable broker a retriable KafkaUnreachableError, and passes the rest', () => {
    const cause = gaveUp();
    expect(cause.retriable).toBe(false);
    let thrown: unknown;
    try {
      asKafkaError(cause);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KafkaUnreachableError);
    expect(thrown).toMatchObject({ code: 'KAPPA_KAFKA_UNREACHABLE', retriable: true, cause });
    const other = new Error('something else');
    expect(() => asKafkaError(other)).toThrow(other);
  });

  it("asKafkaError waits out a leadership election that outlasted kafkajs's retrier, not a refusal", () => {
    // What a metadata request threw in CI right after the broker came back: kafkajs's retrier gave
    // up (not retriable) on a LEADER_NOT_AVAILABLE it had itself marked retriable.
    const settling = (type: string) =>
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSProtocolError(brokerError(type, true)), {
        retryCount: 5,
        retryTime: 412,
      });
    for (const type of [
      'LEADER_NOT_AVAILABLE',
      'NOT_LEADER_FOR_PARTITION',
      'NOT_ENOUGH_REPLICAS',
      'BROKER_NOT_AVAILABLE',
    ]) {
      const cause = settling(type);
      expect(cause.retriable).toBe(false);
      expect(isClusterSettling(cause), type).toBe(true);
      expect(() => asKafkaError(cause)).toThrow(KafkaUnreachableError);
    }
    // A refusal that will not change by waiting stays what it is.
    const refused = new KafkaJSProtocolError(brokerError('TOPIC_AUTHORIZATION_FAILED', false));
    expect(isClusterSettling(refused)).toBe(false);
    expect(() => asKafkaError(refused)).toThrow(refused);
    // Judged by the protocol error's type, never by text.
    expect(isClusterSettling(new Error('There is no leader for this topic-partition'))).toBe(false);
  });
});

describe('isUnknownTopic', () => {
  it("finds the broker's UNKNOWN_TOPIC_OR_PARTITION anywhere in the cause chain, and nothing else", () => {
    const unknown = new KafkaJSProtocolError(brokerError('UNKNOWN_TOPIC_OR_PARTITION', true));
    expect(isUnknownTopic(unknown)).toBe(true);
    expect(isUnknownTopic(new KafkaJSNumberOfRetriesExceeded(unknown, { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(isUnknownTopic(new KafkaJSProtocolError(brokerError('NOT_LEADER_FOR_PARTITION', true)))).toBe(false);
    expect(isUnknownTopic(gaveUp())).toBe(false);
    expect(isUnknownTopic(new Error('This server does not host this topic-partition'))).toBe(false);
  });
});

describe('the kafkajs version the read_committed fix was written for', () => {
  it('is the one installed (the fixes are in place)', () => {
    expect(() => checkKafkajsVersion(KAFKAJS_FIXED_FOR)).not.toThrow();
    expect(readCommittedFilterInstalled()).toBe(true);
    expect(partitionGroupingInstalled()).toBe(true);
  });

  it('refuses any other at start-up, naming both versions', () => {
    expect(() => checkKafkajsVersion('2.3.0', '2.2.4')).toThrow(
      /kafkajs 2\.3\.0 is installed, but src\/kafka\/kafkajs\.ts fixes the read_committed filter of kafkajs 2\.2\.4/,
    );
    try {
      checkKafkajsVersion('2.2.3', '2.2.4');
    } catch (error) {
      expect(error).toMatchObject({ code: 'KAPPA_KAFKAJS_VERSION_MISMATCH', retriable: false });
    }
  });
});
