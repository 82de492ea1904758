import type { Consumer } from 'kafkajs';
import { KappaError, isKappaError } from '../shared/errors.js';

/** The error a crash is reported with: the coded error behind kafkajs's wrapper when there is one. */
export function crashError(error: Error): KappaError {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) if (isKappaError(cause)) return cause;
  return new KappaError(
    'KAPPA_CONSUMER_CRASHED',
    `the Kafka consumer crashed and kafkajs does not restart it: ${error.message}`,
    { cause: error },
  );
}

/**
 * Rejects when `consumer` crashes and kafkajs does not restart it (`CRASH` with `restart: false`:
 * a non-retriable error — a coded KappaError thrown by a batch handler, such as KAPPA_BAD_RECORD,
 * KAPPA_SCHEMA_NOT_FOUND or KAPPA_SQL_REJECTED, or a broker error kafkajs gives up on). Without it
 * a stage process stays alive consuming nothing. Race it with the stop signal: a stage ends with
 * the error (its exit code) instead of waiting for a Ctrl-C that never comes.
 */
export function consumerCrashed(consumer: Consumer): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) reject(crashError(payload.error));
    });
  });
}
