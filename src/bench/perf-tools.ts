import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireJava } from '../stack/java.js';
import {
  parseConsumerPerf,
  parseCopier,
  parseEndToEndLatency,
  parseProducerPerf,
  type ConsumerPerfResult,
  type CopierResult,
  type EndToEndLatencyResult,
  type ProducerPerfResult,
} from './perf-output.js';

export interface PerfToolTarget {
  /** Directory of the Apache Kafka jars (kafka-tools included), from ensureKafkaJars. */
  readonly libs: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly records: number;
  /**
   * A Java client properties file with the TLS / SASL settings kappa's clients use
   * (java-client-config.ts); undefined: plaintext.
   */
  readonly clientConfig?: string | undefined;
}

const configArgs = (flag: string, file: string | undefined) => (file === undefined ? [] : [flag, file]);

async function quietLog4j(): Promise<string> {
  const file = join(tmpdir(), `kappa-bench-log4j-${process.pid}.properties`);
  await writeFile(
    file,
    [
      'log4j.rootLogger=WARN, stderr',
      'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stderr.Target=System.err',
      'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stderr.layout.ConversionPattern=%p %m%n',
      '',
    ].join('\n'),
  );
  return file;
}

async function runTool(libs: string, mainClass: string, args: readonly string[]): Promise<string> {
  const java = requireJava();
  const log4j = await quietLog4j();
  return new Promise((resolve, reject) => {
    const child = spawn(
      java,
      [`-Dlog4j.configuration=file:${log4j}`, '-Xmx512m', '-cp', `${libs}/*`, mainClass, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${mainClass} exited ${code}:\n${stderr.slice(-1000)}`)),
    );
  });
}

/** kafka-producer-perf-test: `records` records of `recordSize` random bytes, acks=all, as fast as it can. */
export async function producerPerfTest(target: PerfToolTarget, recordSize: number): Promise<ProducerPerfResult> {
  const output = await runTool(target.libs, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    target.topic,
    '--num-records',
    String(target.records),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${target.brokers.join(',')}`,
    'acks=all',
    ...configArgs('--producer.config', target.clientConfig),
  ]);
  return parseProducerPerf(output);
}

/** kafka-consumer-perf-test: reads `records` records of the topic from the beginning. */
export async function consumerPerfTest(target: PerfToolTarget): Promise<ConsumerPerfResult> {
  const output = await runTool(target.libs, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    target.brokers.join(','),
    '--topic',
    target.topic,
    '--messages',
    String(target.records),
    '--timeout',
    '60000',
    '--group',
    `kappa-bench-${Date.now()}`,
    ...configArgs('--consumer.config', target.clientConfig),
  ]);
  return parseConsumerPerf(output);
}

/**
 * Kafka's own consume-transform-produce loop (`org.apache.kafka.tools.TransactionalMessageCopier`,
 * what Kafka's exactly-once system tests run): one process in group mode copying every record of
 * `topic` into `output` (same partition), `transactionSize` records per transaction with the
 * consumed offsets, read_committed. It takes no client properties (its settings are fixed in its
 * code), so it cannot run against a secured cluster.
 */
export async function transactionalCopier(
  target: PerfToolTarget & { readonly output: string; readonly transactionSize: number },
): Promise<CopierResult> {
  const id = `kappa-bench-copier-${Date.now()}`;
  const output = await runTool(target.libs, 'org.apache.kafka.tools.TransactionalMessageCopier', [
    '--broker-list',
    target.brokers.join(','),
    '--input-topic',
    target.topic,
    // Required by its parser even in group mode, where it is ignored.
    '--input-partition',
    '0',
    '--output-topic',
    target.output,
    '--group-mode',
    '--use-group-metadata',
    '--consumer-group',
    id,
    '--transactional-id',
    id,
    '--transaction-size',
    String(target.transactionSize),
  ]);
  const result = parseCopier(output);
  if (result.records < target.records)
    throw new Error(`TransactionalMessageCopier copied ${result.records} of ${target.records} records`);
  return result;
}

/**
 * `org.apache.kafka.tools.EndToEndLatency`: `records` sends of `recordSize` bytes to a one-partition
 * topic, each awaited (acks=all) and then polled back before the next; the round trip's percentiles.
 */
export async function endToEndLatency(target: PerfToolTarget, recordSize: number): Promise<EndToEndLatencyResult> {
  const output = await runTool(target.libs, 'org.apache.kafka.tools.EndToEndLatency', [
    target.brokers.join(','),
    target.topic,
    String(target.records),
    'all',
    String(recordSize),
    ...(target.clientConfig === undefined ? [] : [target.clientConfig]),
  ]);
  return parseEndToEndLatency(output);
}
