import { describe, expect, it } from 'vitest';
import { KafkaContextError } from '../shared/errors.js';
import { crashError } from './crash-watch.js';

describe('crashError', () => {
  it('ends with the coded error a batch handler threw, under kafkajs wrapper', () => {
    const coded = new KafkaContextError('KAPPA_SCHEMA_NOT_FOUND', 'schema id 9 …', { schemaId: 9 });
    // kafkajs's retrier wraps it: KafkaJSNonRetriableError(e, { cause: e })
    const wrapped = new Error(coded.message, { cause: coded });
    expect(crashError(wrapped)).toBe(coded);
  });

  it('codes anything else KAPPA_CONSUMER_CRASHED, keeping the cause', () => {
    const foreign = new Error('The coordinator is not aware of this member');
    const error = crashError(foreign);
    expect(error.code).toBe('KAPPA_CONSUMER_CRASHED');
    expect(error.message).toContain('The coordinator is not aware of this member');
    expect(error.cause).toBe(foreign);
  });
});
