/**
 * The live diff between the serving version and a shadow (issue 25), pure: windows are added once,
 * when they have closed in both versions — their rows never change after that — so the figures are
 * kept by adding each newly closed range of windows, never by reading whole tables again. The
 * figures are `kappa diff`'s: rows that differ, rows only in one, totals, over windows closed in both.
 */

export interface LiveRow {
  readonly dim: string;
  readonly key: string;
  readonly windowStart: number;
  readonly from: number;
  readonly to: number;
  /** By lateness alone (see explain.ts); null until an explanation has run for it. */
  explained: boolean | null;
}

export interface WindowTotals {
  readonly windowStart: number;
  readonly from: number;
  readonly to: number;
}

interface DimState {
  totalFrom: number;
  totalTo: number;
  onlyFrom: number;
  onlyTo: number;
  readonly windows: Map<number, { from: number; to: number }>;
  readonly rows: LiveRow[];
}

export interface LiveDimDocument {
  readonly dim: string;
  readonly totalFrom: number;
  readonly totalTo: number;
  /** Rows with a count on both sides that differ. */
  readonly differing: number;
  readonly onlyFrom: number;
  readonly onlyTo: number;
  readonly explained: number;
  readonly unexplained: number;
  /** The latest windows compared, newest first. */
  readonly windows: readonly WindowTotals[];
  /** Differing rows (both kinds), newest window first. */
  readonly rows: readonly LiveRow[];
}

/** `${windowStart}|${key}` → count, as `Catalog.table` reads it. */
export type TableRows = ReadonlyMap<string, number>;

export class LiveDiff {
  private readonly dims = new Map<string, DimState>();
  /** Window starts up to and including this one have been compared (−∞: none yet). */
  comparedThrough = Number.NEGATIVE_INFINITY;

  constructor(
    readonly from: string,
    readonly to: string,
    dims: readonly string[],
  ) {
    for (const dim of dims)
      this.dims.set(dim, { totalFrom: 0, totalTo: 0, onlyFrom: 0, onlyTo: 0, windows: new Map(), rows: [] });
  }

  /**
   * Adds the rows of windows newly closed in both (starts in (comparedThrough, through]) of one
   * dimension; returns the rows that differ, for explanation. Call `advance(through)` after every dimension.
   */
  add(dim: string, fromRows: TableRows, toRows: TableRows): LiveRow[] {
    const state = this.dims.get(dim);
    if (state === undefined) return [];
    const added: LiveRow[] = [];
    const window = (start: number) => {
      let totals = state.windows.get(start);
      if (totals === undefined) {
        totals = { from: 0, to: 0 };
        state.windows.set(start, totals);
      }
      return totals;
    };
    const split = (row: string) => {
      const bar = row.indexOf('|');
      return { windowStart: Number(row.slice(0, bar)), key: row.slice(bar + 1) };
    };
    for (const [row, count] of fromRows) {
      const { windowStart, key } = split(row);
      state.totalFrom += count;
      window(windowStart).from += count;
      const other = toRows.get(row);
      if (other === undefined) state.onlyFrom += 1;
      if (other !== count) added.push({ dim, key, windowStart, from: count, to: other ?? 0, explained: null });
    }
    for (const [row, count] of toRows) {
      const { windowStart, key } = split(row);
      state.totalTo += count;
      window(windowStart).to += count;
      if (!fromRows.has(row)) {
        state.onlyTo += 1;
        added.push({ dim, key, windowStart, from: 0, to: count, explained: null });
      }
    }
    state.rows.push(...added);
    return added;
  }

  advance(through: number): void {
    if (through > this.comparedThrough) this.comparedThrough = through;
  }

  document(dim?: string, limit = 200): LiveDimDocument[] {
    return [...this.dims.entries()]
      .filter(([name]) => dim === undefined || name === dim)
      .map(([name, state]) => {
        const rows = [...state.rows].sort((a, b) => b.windowStart - a.windowStart || a.key.localeCompare(b.key));
        return {
          dim: name,
          totalFrom: state.totalFrom,
          totalTo: state.totalTo,
          differing: state.rows.length - state.onlyFrom - state.onlyTo,
          onlyFrom: state.onlyFrom,
          onlyTo: state.onlyTo,
          explained: state.rows.filter((row) => row.explained === true).length,
          unexplained: state.rows.filter((row) => row.explained === false).length,
          windows: [...state.windows.entries()]
            .sort(([a], [b]) => b - a)
            .slice(0, limit)
            .map(([windowStart, totals]) => ({ windowStart, ...totals })),
          rows: rows.slice(0, limit),
        };
      });
  }
}

/**
 * The newest window start closed in both versions, given each one's horizon (the lowest partition
 * watermark, `closedHorizons`) and window size: a window is closed once start + size ≤ horizon.
 */
export function closedInBothThrough(horizons: readonly [number, number], sizes: readonly [number, number]): number {
  return Math.min(horizons[0] - sizes[0], horizons[1] - sizes[1]);
}
