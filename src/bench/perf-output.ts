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
