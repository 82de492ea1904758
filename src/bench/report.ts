/** One measured figure beside the baseline measured in the same run, on the same broker. */
export interface BenchRow {
  readonly name: string;
  /** With `rounds`: the median of the rounds' figures. */
  readonly value: number;
  readonly unit: string;
  readonly baseline: { readonly name: string; readonly value: number };
  /**
   * Figures of interleaved rounds (ours and the baseline measured in turn, each round): the row's
   * ratio is then the median of the rounds' ratios, printed with their spread. On a shared machine
   * the load drifts within seconds; a ratio of one back-to-back pair would carry that drift.
   */
  readonly rounds?: readonly { readonly value: number; readonly baseline: number }[];
}

/** The middle value (the upper one of an even count); 0 for none. */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

const divide = (value: number, baseline: number) => (baseline === 0 ? Number.NaN : value / baseline);

/** The rounds' ratios (ours / baseline), in round order; empty without rounds. */
export function roundRatios(row: BenchRow): readonly number[] {
  return (row.rounds ?? []).map((round) => divide(round.value, round.baseline));
}

/**
 * ours / baseline; above 1 means faster than the baseline (for rates). A row with rounds: the
 * median of the rounds' ratios.
 */
export function ratio(row: BenchRow): number {
  const ratios = roundRatios(row);
  return ratios.length > 0 ? median(ratios) : divide(row.value, row.baseline.value);
}

/** A row from interleaved rounds: the medians of ours and of the baseline, and every round kept. */
export function roundsRow(
  name: string,
  unit: string,
  baselineName: string,
  rounds: readonly { readonly value: number; readonly baseline: number }[],
): BenchRow {
  return {
    name,
    value: median(rounds.map((round) => round.value)),
    unit,
    baseline: { name: baselineName, value: median(rounds.map((round) => round.baseline)) },
    rounds,
  };
}

/** `0.77`, or with rounds `0.77 (0.70–0.81, 3 rounds)`. */
function formatRatio(row: BenchRow): string {
  const ratios = roundRatios(row);
  if (ratios.length < 2) return ratio(row).toFixed(2);
  return `${ratio(row).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, ${ratios.length} rounds)`;
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
      formatRatio(row),
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
