import type { Logger } from '../shared/logger.js';
import type { Catalog, VersionRecord } from './catalog.js';
import { closedHorizons } from './catch-up.js';
import { ContinuedExplainer, type ExplainContext } from './explain-versions.js';
import { closedInBothThrough, LiveDiff, type LiveDimDocument, type LiveRow } from './live-diff.js';

export interface LiveDiffAnswer {
  readonly from: string;
  readonly to: string;
  /** `computing`: a pass is under way (the figures are the previous pass's). */
  readonly state: 'computing' | 'ready';
  /** Windows starting at or before this instant (ISO-8601) are compared: closed in both. */
  readonly comparedThrough: string | null;
  readonly computedAt: string | null;
  readonly error: string | null;
  readonly dims: readonly LiveDimDocument[];
}

interface Pair {
  /** Replaced once, on the first pass, when the versions' common dimensions are known. */
  diff: LiveDiff;
  running: Promise<void> | null;
  /** Explains the rows of each newly compared range, its replays continued pass after pass. */
  explainer: ContinuedExplainer | undefined;
  finishedAt: number;
  error: string | null;
}

export interface LiveDiffOptions {
  readonly catalog: Catalog;
  /** Explains each newly differing row (replays both logs); without it rows stay unmarked (null). */
  readonly explain?: ExplainContext;
  readonly logger: Logger;
  /** A pair is brought up to date at most this often. */
  readonly refreshMs?: number;
}

/**
 * `GET /api/diff` behind the scenes, like `LatenessService`: each (from, to) pair asked about is
 * brought up to date in the background — the windows newly closed in both read from both tables
 * (`Catalog.tableRange`), their differing rows explained by replays continued from the last
 * pass (`ContinuedExplainer`) — and a request is answered at once from
 * the figures so far.
 */
export class LiveDiffService {
  private readonly pairs = new Map<string, Pair>();
  private closed = false;

  constructor(private readonly options: LiveDiffOptions) {}

  /** The pairs kept current: the serving version against each shadow, plus any asked about. */
  async shadows(): Promise<{ from: string; to: string }[]> {
    const serving = await this.options.catalog.serving();
    if (serving === undefined) return [];
    return (await this.options.catalog.versions())
      .filter((record) => record.state === 'shadow' && record.version !== serving)
      .map((record) => ({ from: serving, to: record.version }));
  }

  answer(from: string, to: string, dim?: string): LiveDiffAnswer {
    const pair = this.pair(from, to);
    const refreshMs = this.options.refreshMs ?? 2_000;
    if (pair.running === null && Date.now() - pair.finishedAt >= refreshMs) this.start(pair);
    const { diff } = pair;
    return {
      from,
      to,
      state: pair.running === null ? 'ready' : 'computing',
      comparedThrough: Number.isFinite(diff.comparedThrough) ? new Date(diff.comparedThrough).toISOString() : null,
      computedAt: pair.finishedAt === 0 ? null : new Date(pair.finishedAt).toISOString(),
      error: pair.error,
      dims: diff.document(dim),
    };
  }

  /** Brings the pair up to date now (tests, `kappa diff` parity) and answers. */
  async current(from: string, to: string, dim?: string): Promise<LiveDiffAnswer> {
    const pair = this.pair(from, to);
    if (pair.running !== null) await pair.running;
    this.start(pair);
    await pair.running;
    return this.answer(from, to, dim);
  }

  close(): void {
    this.closed = true;
  }

  private pair(from: string, to: string): Pair {
    const id = `${from}|${to}`;
    let pair = this.pairs.get(id);
    if (pair === undefined) {
      pair = {
        diff: new LiveDiff(from, to, []),
        running: null,
        explainer: this.options.explain && new ContinuedExplainer(this.options.explain, from, to),
        finishedAt: 0,
        error: null,
      };
      this.pairs.set(id, pair);
    }
    return pair;
  }

  private start(pair: Pair): void {
    if (this.closed) return;
    pair.running = this.pass(pair)
      .then(() => {
        pair.error = null;
      })
      .catch((error: unknown) => {
        pair.error = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ err: error, from: pair.diff.from, to: pair.diff.to }, 'live diff pass failed');
      })
      .finally(() => {
        pair.running = null;
        pair.finishedAt = Date.now();
      });
  }

  private async pass(pair: Pair): Promise<void> {
    const { catalog } = this.options;
    const [a, b] = [await catalog.version(pair.diff.from), await catalog.version(pair.diff.to)];
    if (pair.diff.document().length === 0)
      pair.diff = new LiveDiff(
        a.version,
        b.version,
        a.dims.filter((dim) => b.dims.includes(dim)),
      );
    const { diff } = pair;
    const watermarks = async (record: VersionRecord) =>
      new Map((await catalog.progress(record.version, record.topic)).map((row) => [row.partition, row.watermark]));
    const horizons = closedHorizons(await watermarks(a), await watermarks(b));
    const through = closedInBothThrough(horizons, [a.settings.sizeMs, b.settings.sizeMs]);
    if (!Number.isFinite(through) || through <= diff.comparedThrough) return;
    const after = diff.comparedThrough;
    const added: LiveRow[] = [];
    for (const dim of a.dims.filter((entry) => b.dims.includes(entry)))
      added.push(
        ...diff.add(
          dim,
          await catalog.tableRange(a.version, dim, after, through),
          await catalog.tableRange(b.version, dim, after, through),
        ),
      );
    diff.advance(through);
    if (pair.explainer === undefined || added.length === 0) return;
    const explained = await pair.explainer.explain(
      added.map((row) => ({
        dim: row.dim as VersionRecord['dims'][number],
        key: row.key,
        windowStart: row.windowStart,
      })),
      through,
    );
    explained.forEach((explanation, index) => {
      const row = added[index];
      if (row !== undefined) row.explained = explanation.exact && explanation.byLateness;
    });
  }
}
