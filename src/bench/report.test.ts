import { describe, expect, it } from 'vitest';
import { formatTable, ratio, roundsRow, type BenchRow } from './report.js';

const rows: BenchRow[] = [
  {
    name: 'produce (kafkajs)',
    value: 50_000,
    unit: 'rec/s',
    baseline: { name: 'kafka-producer-perf-test', value: 200_000 },
  },
  {
    name: 'consume (kafkajs)',
    value: 300_000.4,
    unit: 'rec/s',
    baseline: { name: 'kafka-consumer-perf-test', value: 150_000 },
  },
];

describe('bench report', () => {
  it('computes the ratio to the baseline', () => {
    expect(ratio(rows[0] as BenchRow)).toBe(0.25);
    expect(ratio(rows[1] as BenchRow)).toBeCloseTo(2.0000027);
    expect(ratio({ ...(rows[0] as BenchRow), baseline: { name: 'x', value: 0 } })).toBeNaN();
  });

  it('prints one aligned line per benchmark with its ratio', () => {
    const lines = formatTable(rows).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^benchmark\s+figure\s+baseline \(same run, same broker\)\s+baseline\s+ratio$/);
    expect(lines[2]).toMatch(
      /^produce \(kafkajs\)\s+50,000 rec\/s\s+kafka-producer-perf-test\s+200,000 rec\/s\s+0\.25$/,
    );
    expect(lines[3]).toMatch(/300,000 rec\/s .* 150,000 rec\/s\s+2\.00$/);
    expect(new Set(lines.map((line) => line.length)).size).toBeLessThanOrEqual(2);
  });

  it("takes the median of interleaved rounds' ratios and prints their spread", () => {
    const row = roundsRow('enrich', 'ev/s', 'copy', [
      { value: 70, baseline: 100 },
      { value: 90, baseline: 100 },
      { value: 40, baseline: 50 },
    ]);
    // Ratios 0.7, 0.9, 0.8: the median ratio is not the ratio of the medians (70 / 100).
    expect(ratio(row)).toBeCloseTo(0.8);
    expect(row.value).toBe(70);
    expect(row.baseline.value).toBe(100);
    expect(formatTable([row]).split('\n')[2]).toMatch(/0\.80 \(0\.70–0\.90, 3 rounds\)$/);
  });
});
