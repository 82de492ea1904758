/**
 * kafkajs, with seven of its internal modules replaced by ours: the read_committed filter (see
 * ./read-committed.ts: kafkajs 2.2.4 leaks records of aborted transactions when a partition holds
 * several), the producer's grouping of messages by partition (./group-by-partition.ts: O(n²) in
 * the messages for one partition), its record encoder (./record-encoder.ts: the same bytes
 * without three buffers and a copy per varint per record), its Produce request
 * (./produce-request.ts: the same bytes without an object spread per record) and its record
 * decoder (./record-decoder.ts: the same records without an object spread per header), its record
 * batch decoder (./batch-decoder.ts: the same batches without a Buffer and a Decoder per record)
 * and its consumer's Batch (./fetched-batch.ts: the same records kept without a Long per offset). Every
 * runtime use of kafkajs goes through this module — a lint rule forbids value imports of 'kafkajs'
 * elsewhere — so the replacements are in place before kafkajs's consumer and producer code load
 * and bind them.
 */
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import { KappaError } from '../shared/errors.js';
import { groupMessagesPerPartition } from './group-by-partition.js';
import { encodeRecord, type RecordEncoder } from './record-encoder.js';
import { produceRequestV3 } from './produce-request.js';
import { decodeRecord, readRecord, type RecordDecoder } from './record-decoder.js';
import { filterAbortedRecords, type AbortedTransaction, type FetchedRecord } from './read-committed.js';
import { recordBatchDecoder, type BatchDecoderParts } from './batch-decoder.js';
import { batchRecords } from './fetched-batch.js';

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
const GROUPING = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND = 'kafkajs/src/producer/sendMessages.js';
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
/** The one module that binds RECORD (every produce request version from 3 on builds on it). */
const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
/** The one module that binds RECORD_DECODER: the record batch's decoder. */
const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
/** The one module that binds BATCH_DECODER: a fetch response's records (every fetch version from 4 on uses it). */
const DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
/** The one module that binds BATCH. */
const CONSUMER_GROUP = 'kafkajs/src/consumer/consumerGroup.js';
/** The first module that binds PRODUCE_V3 (versions 4 to 7 build on it; the index loads them lazily). */
const PRODUCE_V4 = 'kafkajs/src/protocol/requests/produce/v4/request.js';
/** Marks our modules; a global symbol, because a test runner may evaluate this module more than once in one process. */
const MARK = Symbol.for('kappa.readCommittedFilter');

function isOurs(value: unknown): boolean {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[MARK] === true;
}

/**
 * Puts `ours` in the module cache in place of kafkajs's `path`, before `user` (which binds it) loads;
 * returns kafkajs's own exports (undefined when ours was in place already).
 */
function install(path: string, user: string, ours: unknown): unknown {
  const modulePath = require.resolve(path);
  if (isOurs(require.cache[modulePath]?.exports)) return undefined;
  if (require.cache[require.resolve(user)] !== undefined) {
    throw new Error(
      `kafkajs was loaded before src/kafka/kafkajs.ts could replace ${path}: import kafkajs values from src/kafka/kafkajs.ts only`,
    );
  }
  require(path);
  const loaded = require.cache[modulePath];
  if (loaded === undefined)
    throw new Error(`kafkajs has no ${path}: check the kafkajs version (${KAFKAJS_FIXED_FOR} expected)`);
  const theirs: unknown = loaded.exports;
  loaded.exports = ours;
  return theirs;
}

/** `install` for a replacement built on kafkajs's own module (`build` gets its exports). */
function installOver(path: string, user: string, build: (theirs: unknown) => unknown): void {
  // Undefined when ours is in place already (install then changes nothing).
  const theirs = install(path, user, undefined);
  const loaded = require.cache[require.resolve(path)];
  if (theirs !== undefined && loaded !== undefined) loaded.exports = build(theirs);
}

function installReplacements(): void {
  checkKafkajsVersion((require('kafkajs/package.json') as { version: string }).version);
  install(FILTER, BATCH, replacement);
  install(GROUPING, SEND, grouping);
  const theirs = install(RECORD, PRODUCE_V3, record);
  if (theirs !== undefined) kafkajsRecord = theirs as RecordEncoder;
  install(PRODUCE_V3, PRODUCE_V4, produceRequest);
  const theirDecoder = install(RECORD_DECODER, BATCH_DECODER, recordDecoder);
  if (theirDecoder !== undefined) kafkajsRecordDecoder = theirDecoder as RecordDecoder;
  install(BATCH_DECODER, DECODE_MESSAGES, batchDecoder);
  installOver(BATCH, CONSUMER_GROUP, (theirs) => batchClass(theirs as BatchClass));
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

/** A function of its own, so that marking it does not mark group-by-partition.ts's export. */
const grouping: typeof groupMessagesPerPartition = (input) => groupMessagesPerPartition(input);

/** kafkajs's own record encoder, for the inputs ours leaves to it. */
let kafkajsRecord: RecordEncoder = () => {
  throw new Error('kafkajs record encoder not loaded');
};
const record: RecordEncoder = (input) => encodeRecord(input, kafkajsRecord);
const produceRequest = produceRequestV3(record);
/** kafkajs's own record decoder, for the records ours leaves to it. */
let kafkajsRecordDecoder: RecordDecoder = () => {
  throw new Error('kafkajs record decoder not loaded');
};
const recordDecoder: RecordDecoder = (decoder, batchContext = {}) =>
  decodeRecord(decoder, batchContext, kafkajsRecordDecoder);

const batchDecoder = recordBatchDecoder({
  Decoder: require('kafkajs/src/protocol/decoder.js') as BatchDecoderParts['Decoder'],
  codecOf: (
    require('kafkajs/src/protocol/message/compression/index.js') as {
      lookupCodecByAttributes: BatchDecoderParts['codecOf'];
    }
  ).lookupCodecByAttributes,
  partialBatch: (message) => {
    const { KafkaJSPartialMessageError } = require('kafkajs/src/errors.js') as {
      KafkaJSPartialMessageError: new (message: string) => Error;
    };
    return new KafkaJSPartialMessageError(message);
  },
  decodeRecord: recordDecoder,
  readRecord,
});

const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): { gte(other: unknown): boolean } };
/** kafkajs's own comparison of an offset with the fetched one. */
const longAtLeast = (offset: unknown, from: unknown) => Long.fromValue(offset).gte(Long.fromValue(from));

interface PartitionData {
  readonly messages: FetchedRecord[];
  readonly abortedTransactions?: AbortedTransaction[];
}

interface KafkajsBatch {
  rawMessages: FetchedRecord[];
  messagesWithinOffset: FetchedRecord[];
  messages: FetchedRecord[];
}

type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => KafkajsBatch;

/**
 * kafkajs's Batch with its records kept by ./fetched-batch.ts: kafkajs's constructor sets every
 * other field (given no records to filter), then the records are kept as it keeps them. Every
 * method is kafkajs's.
 */
function batchClass(Theirs: BatchClass): BatchClass {
  class Batch extends Theirs {
    constructor(topic: string, fetchedOffset: unknown, partitionData: PartitionData) {
      super(topic, fetchedOffset, { ...partitionData, messages: [] });
      const { messages, abortedTransactions } = partitionData;
      const { withinOffset, kept } = batchRecords(messages, fetchedOffset, longAtLeast, (records) =>
        filterAbortedRecords(records, abortedTransactions),
      );
      this.rawMessages = messages;
      this.messagesWithinOffset = withinOffset;
      this.messages = kept;
    }
  }
  Object.defineProperty(Batch, MARK, { value: true });
  return Batch;
}

Object.defineProperty(replacement, MARK, { value: true });
Object.defineProperty(batchDecoder, MARK, { value: true });
Object.defineProperty(grouping, MARK, { value: true });
Object.defineProperty(record, MARK, { value: true });
Object.defineProperty(produceRequest, MARK, { value: true });
Object.defineProperty(recordDecoder, MARK, { value: true });
installReplacements();
const kafkajs = require('kafkajs') as typeof KafkaJs;

/** Whether kafkajs's consumer uses our filter (tests check it). */
export function readCommittedFilterInstalled(): boolean {
  return isOurs(require.cache[require.resolve(FILTER)]?.exports);
}

/** Whether kafkajs's produce requests use our record encoder (tests check it). */
export function recordEncoderInstalled(): boolean {
  return isOurs(require.cache[require.resolve(RECORD)]?.exports);
}

/** Whether kafkajs's fetches decode records with ours (tests check it). */
export function recordDecoderInstalled(): boolean {
  return isOurs(require.cache[require.resolve(RECORD_DECODER)]?.exports);
}

/** Whether kafkajs's fetches decode record batches with ours (tests check it). */
export function batchDecoderInstalled(): boolean {
  return isOurs(require.cache[require.resolve(BATCH_DECODER)]?.exports);
}

/** Whether kafkajs's consumer keeps a fetch's records with our Batch (tests check it). */
export function fetchedBatchInstalled(): boolean {
  return isOurs(require.cache[require.resolve(BATCH)]?.exports);
}

/** Whether kafkajs's producer uses our Produce request (tests check it). */
export function produceRequestInstalled(): boolean {
  return isOurs(require.cache[require.resolve(PRODUCE_V3)]?.exports);
}

/** Whether kafkajs's producer uses our grouping by partition (tests check it). */
export function partitionGroupingInstalled(): boolean {
  return isOurs(require.cache[require.resolve(GROUPING)]?.exports);
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
export const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError;
