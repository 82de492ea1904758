/**
 * Parsers for the final report lines of Apache Kafka's own perf tools (kafka-tools 3.9), the
 * baselines every kappa benchmark is compared against.
 */

export interface ProducerPerfResult {
  readonly records: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly avgLatencyMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ConsumerPerfResult {
  readonly records: number;
  /** Messages per second while fetching, excluding the group join (`fetch.nMsg.sec`). */
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
}

const PRODUCER_SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/;

/** `ProducerPerformance` prints progress lines, then one summary line; this reads the summary. */
export function parseProducerPerf(output: string): ProducerPerfResult {
  const lines = output.trim().split('\n').reverse();
  for (const line of lines) {
    const match = PRODUCER_SUMMARY.exec(line);
    if (match) {
      const [, records, perSec, mb, avg, p50, p99] = match.map(Number);
      return {
        records: records ?? 0,
        recordsPerSec: perSec ?? 0,
        mbPerSec: mb ?? 0,
        avgLatencyMs: avg ?? 0,
        p50Ms: p50 ?? 0,
        p99Ms: p99 ?? 0,
      };
    }
  }
  throw new Error(`no summary line in ProducerPerformance output:\n${output.slice(-500)}`);
}

/** `ConsumerPerformance` prints a CSV header and one data row. */
export function parseConsumerPerf(output: string): ConsumerPerfResult {
  const lines = output.trim().split('\n');
  const headerAt = lines.findIndex((line) => line.startsWith('start.time,'));
  const header = lines[headerAt]?.split(',').map((cell) => cell.trim());
  const row = lines[headerAt + 1]?.split(',').map((cell) => cell.trim());
  if (headerAt < 0 || header === undefined || row === undefined || row.length !== header.length) {
    throw new Error(`no result row in ConsumerPerformance output:\n${output.slice(-500)}`);
  }
  const column = (name: string) => Number(row[header.indexOf(name)]);
  return {
    records: column('data.consumed.in.nMsg'),
    recordsPerSec: column('fetch.nMsg.sec'),
    mbPerSec: column('fetch.MB.sec'),
  };
}

export interface EndToEndLatencyResult {
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

const E2E_AVG = /^Avg latency: ([\d.]+) ms$/m;
const E2E_PERCENTILES = /^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)$/m;

/** `EndToEndLatency` prints progress lines, then the average and the percentiles (whole ms). */
export function parseEndToEndLatency(output: string): EndToEndLatencyResult {
  const avg = E2E_AVG.exec(output);
  const percentiles = E2E_PERCENTILES.exec(output);
  if (avg === null || percentiles === null) {
    throw new Error(`no result lines in EndToEndLatency output:\n${output.slice(-500)}`);
  }
  const [, p50, p99, p999] = percentiles.map(Number);
  return { avgMs: Number(avg[1]), p50Ms: p50 ?? 0, p99Ms: p99 ?? 0, p999Ms: p999 ?? 0 };
}

export interface CopierResult {
  readonly records: number;
  /** From the group's assignment (group mode) or the first loop to the shutdown line. */
  readonly seconds: number;
  readonly recordsPerSec: number;
}

/** `yyyy/MM/dd HH:mm:ss:SSS` in the JVM's zone: read as UTC, which keeps differences right. */
function copierTime(text: unknown): number {
  const match = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}):(\d{3})$/.exec(String(text));
  if (match === null) return Number.NaN;
  const [, year, month, day, hour, minute, second, milli] = match.map(Number);
  return Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second, milli);
}

/**
 * `TransactionalMessageCopier` prints a JSON status line per loop (`stage`: `RebalanceComplete` once
 * the group assigned its partitions, `ProcessLoop` before each poll) and a `shutdown_complete` line;
 * timed from the first assignment (the first loop without a group) to the shutdown line — the JVM's
 * start, initTransactions and the group join excluded, as the kappa row excludes its start-up.
 */
export function parseCopier(output: string): CopierResult {
  const lines = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const start =
    lines.find((line) => line['stage'] === 'RebalanceComplete') ??
    lines.find((line) => line['stage'] === 'ProcessLoop');
  const end = lines.find((line) => 'shutdown_complete' in line) ?? lines.at(-1);
  const records = Number(end?.['totalProcessed']);
  const seconds = (copierTime(end?.['time']) - copierTime(start?.['time'])) / 1_000;
  if (start === undefined || !(records > 0) || !(seconds > 0)) {
    throw new Error(`no progress in TransactionalMessageCopier output:\n${output.slice(-500)}`);
  }
  return { records, seconds, recordsPerSec: records / seconds };
}
