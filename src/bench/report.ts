/** One measured figure beside the baseline measured in the same run, on the same broker. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: { readonly name: string; readonly value: number };
}

/** The middle value (the upper one of an even count); 0 for none. */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** ours / baseline; above 1 means faster than the baseline (for rates). */
export function ratio(row: BenchRow): number {
  return row.baseline.value === 0 ? Number.NaN : row.value / row.baseline.value;
}

/** A plain-text table: benchmark, figure, baseline, its figure, ratio. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = [
    ['benchmark', 'figure', 'baseline (same run, same broker)', 'baseline', 'ratio'],
    ...rows.map((row) => [
      row.name,
      `${number.format(row.value)} ${row.unit}`,
      row.baseline.name,
      `${number.format(row.baseline.value)} ${row.unit}`,
      ratio(row).toFixed(2),
    ]),
  ];
  const widths = cells[0]?.map((_, column) => Math.max(...cells.map((line) => line[column]?.length ?? 0))) ?? [];
  const render = (line: readonly string[]) =>
    line
      .map((cell, column) =>
        column === 1 || column === 3 || column === 4
          ? cell.padStart(widths[column] ?? 0)
          : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const [header, ...body] = cells;
  return [render(header ?? []), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(render)].join('\n');
}
