/**
 * kafkajs, with its read_committed filter replaced by ours (see ./read-committed.ts: kafkajs 2.2.4
 * leaks records of aborted transactions when a partition holds several). Every runtime use of
 * kafkajs goes through this module — a lint rule forbids value imports of 'kafkajs' elsewhere —
 * so the replacement is in place before kafkajs's consumer code loads and binds its filter.
 */
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import { KappaError } from '../shared/errors.js';
import { filterAbortedRecords, type AbortedTransaction, type FetchedRecord } from './read-committed.js';

const require = createRequire(import.meta.url);
/**
 * The kafkajs release whose consumer internals (module paths, the filter's signature) the fix
 * below was written and tested for. Upgrading kafkajs means re-checking upstream issue #1479 and
 * these paths, then changing this constant.
 */
export const KAFKAJS_FIXED_FOR = '2.2.4';

/** Refuses to start on any other kafkajs than the one the read_committed fix was written for. */
export function checkKafkajsVersion(installed: string, fixedFor: string = KAFKAJS_FIXED_FOR): void {
  if (installed !== fixedFor)
    throw new KappaError(
      'KAPPA_KAFKAJS_VERSION_MISMATCH',
      `kafkajs ${installed} is installed, but src/kafka/kafkajs.ts fixes the read_committed filter of kafkajs ${fixedFor}: install kafkajs@${fixedFor} (npm ci), or re-check the fix against ${installed} and update KAFKAJS_FIXED_FOR`,
    );
}
const FILTER = 'kafkajs/src/consumer/filterAbortedMessages.js';
const BATCH = 'kafkajs/src/consumer/batch.js';
/** Marks our filter; a global symbol, because a test runner may evaluate this module more than once in one process. */
const MARK = Symbol.for('kappa.readCommittedFilter');

function isOurs(value: unknown): boolean {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[MARK] === true;
}

function installFilter(): void {
  checkKafkajsVersion((require('kafkajs/package.json') as { version: string }).version);
  const batchPath = require.resolve(BATCH);
  const filterPath = require.resolve(FILTER);
  const filterModule = require.cache[filterPath];
  if (isOurs(filterModule?.exports)) return;
  if (require.cache[batchPath] !== undefined) {
    throw new Error(
      `kafkajs was loaded before src/kafka/kafkajs.ts could fix its read_committed filter: import kafkajs values from src/kafka/kafkajs.ts only`,
    );
  }
  require(FILTER);
  const loaded = require.cache[filterPath];
  if (loaded === undefined)
    throw new Error(`kafkajs has no ${FILTER}: check the kafkajs version (${KAFKAJS_FIXED_FOR} expected)`);
  loaded.exports = replacement;
}

function replacement({
  messages,
  abortedTransactions,
}: {
  messages: FetchedRecord[];
  abortedTransactions?: AbortedTransaction[];
}): FetchedRecord[] {
  return filterAbortedRecords(messages, abortedTransactions);
}

Object.defineProperty(replacement, MARK, { value: true });
installFilter();
const kafkajs = require('kafkajs') as typeof KafkaJs;

/** Whether kafkajs's consumer uses our filter (tests check it). */
export function readCommittedFilterInstalled(): boolean {
  return isOurs(require.cache[require.resolve(FILTER)]?.exports);
}

export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJs.Kafka;
export const Partitioners = kafkajs.Partitioners;
export const CompressionTypes = kafkajs.CompressionTypes;
export type CompressionTypes = KafkaJs.CompressionTypes;
export const ConfigResourceTypes = kafkajs.ConfigResourceTypes;
export type ConfigResourceTypes = KafkaJs.ConfigResourceTypes;
export const logLevel = kafkajs.logLevel;
export type logLevel = KafkaJs.logLevel;
export const KafkaJSError = kafkajs.KafkaJSError;
export const KafkaJSConnectionError = kafkajs.KafkaJSConnectionError;
export const KafkaJSNumberOfRetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded;
export const KafkaJSProtocolError = kafkajs.KafkaJSProtocolError;
export const KafkaJSRequestTimeoutError = kafkajs.KafkaJSRequestTimeoutError;
/** Not in kafkajs's type declarations, but exported at run time (src/errors.js). */
export const KafkaJSNoBrokerAvailableError = (kafkajs as unknown as { KafkaJSNoBrokerAvailableError: typeof Error })
  .KafkaJSNoBrokerAvailableError;
