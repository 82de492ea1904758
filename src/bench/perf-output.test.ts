import { describe, expect, it } from 'vitest';
import { parseConsumerPerf, parseCopier, parseEndToEndLatency, parseProducerPerf } from './perf-output.js';

describe('parseProducerPerf', () => {
  it('reads the summary line after the progress lines', () => {
    const output = [
      '105766 records sent, 21153.2 records/sec (2.02 MB/sec), 310.3 ms avg latency, 430.0 ms max latency.',
      '200000 records sent, 127388.535032 records/sec (12.15 MB/sec), 334.37 ms avg latency, 435.00 ms max latency, 335 ms 50th, 416 ms 95th, 426 ms 99th, 435 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerf(output)).toEqual({
      records: 200000,
      recordsPerSec: 127388.535032,
      mbPerSec: 12.15,
      avgLatencyMs: 334.37,
      p50Ms: 335,
      p99Ms: 426,
    });
  });

  it('fails loudly when there is no summary', () => {
    expect(() => parseProducerPerf('ERROR something broke')).toThrow(/no summary line/);
  });
});

describe('parseConsumerPerf', () => {
  it('reads the fetch rate from the CSV row', () => {
    const output = [
      'WARN some log line',
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-24 01:46:07:579, 2026-11-24 01:46:08:410, 19.0735, 22.9525, 200000, 240673.8869, 469, 362, 52.6892, 552486.1878',
    ].join('\n');
    expect(parseConsumerPerf(output)).toEqual({ records: 200000, recordsPerSec: 552486.1878, mbPerSec: 52.6892 });
  });

  it('fails loudly without a result row', () => {
    expect(() => parseConsumerPerf('start.time, end.time')).toThrow(/no result row/);
  });
});

describe('parseEndToEndLatency', () => {
  it('reads the average and the percentiles after the progress lines', () => {
    const output = [
      '0\t41.5',
      '1000\t1.2',
      'Avg latency: 1.8123 ms',
      'Percentiles: 50th = 1, 99th = 4, 99.9th = 12',
    ].join('\n');
    expect(parseEndToEndLatency(output)).toEqual({ avgMs: 1.8123, p50Ms: 1, p99Ms: 4, p999Ms: 12 });
  });

  it('fails loudly without them', () => {
    expect(() => parseEndToEndLatency('0\t41.5')).toThrow(/no result lines/);
  });
});

describe('parseCopier', () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify(fields);
  it('times from the assignment to the shutdown line', () => {
    const output = [
      'WARN something',
      line({ progress: 'c', totalProcessed: 0, stage: 'ProcessLoop', time: '2026/12/05 07:59:58:000' }),
      line({ progress: 'c', totalProcessed: 0, stage: 'RebalanceComplete', time: '2026/12/05 07:59:59:500' }),
      line({ progress: 'c', totalProcessed: 10000, stage: 'ProcessLoop', time: '2026/12/05 08:00:00:000' }),
      line({ shutdown_complete: 'c', totalProcessed: 40000, remaining: 0, time: '2026/12/05 08:00:01:500' }),
    ].join('\n');
    expect(parseCopier(output)).toEqual({ records: 40000, seconds: 2, recordsPerSec: 20000 });
  });

  it('fails loudly when nothing was copied', () => {
    expect(() =>
      parseCopier(line({ stage: 'ProcessLoop', totalProcessed: 0, time: '2026/12/05 08:00:00:000' })),
    ).toThrow(/no progress/);
  });
});
