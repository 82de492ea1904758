import { describe, expect, it } from 'vitest';
import { KafkaUnreachableError } from '../shared/errors.js';
import { asKafkaError, isBrokerUnreachable } from './kafka-errors.js';
import {
  checkKafkajsVersion,
  KAFKAJS_FIXED_FOR,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  partitionGroupingInstalled,
  readCommittedFilterInstalled,
} from './kafkajs.js';

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
