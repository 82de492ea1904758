import type { Logger } from '../shared/logger.js';
import { LatenessAnalyser, type LatenessWindows } from './analyser.js';
import { toDocument, type LatenessDocument } from './format.js';
import { readStagesLog, type ReadResult, type StagesLogSource } from './log-reader.js';

export interface LatenessAnswer {
  /** `computing`: a read of the log is under way (the document, if any, is from the previous one). */
  readonly state: 'computing' | 'ready';
  readonly windows: LatenessWindows;
  /** The numbers as of the offsets in it; null until the first read of the log has finished. */
  readonly document: LatenessDocument | null;
  /** When the document's read finished (ISO-8601). */
  readonly computedAt: string | null;
  /** Why the last read failed, if it did (the next request tries again). */
  readonly error: string | null;
}

/** One window setting's analysis: read incrementally, answered from a copy taken at the end of each read. */
interface Analysis {
  analyser: LatenessAnalyser;
  offsets: ReadonlyMap<number, bigint>;
  answered: {
    readonly analyser: LatenessAnalyser;
    readonly offsets: ReadonlyMap<number, bigint>;
    readonly at: Date;
  } | null;
  running: Promise<void> | null;
  finishedAt: number;
  error: string | null;
}

export interface LatenessDefaults {
  readonly windows: LatenessWindows;
  readonly delays: readonly number[];
  readonly target: number;
}

export interface LatenessServiceOptions {
  readonly source: StagesLogSource;
  /** What a request that does not say gets (KAPPA_WINDOW, KAPPA_SLIDE, KAPPA_LATENESS_*). */
  readonly defaults: LatenessDefaults;
  /** A finished analysis is read on from its offsets at most this often. */
  readonly refreshMs?: number;
  /** How many window settings are kept (least recently asked for dropped first). */
  readonly keep?: number;
  /** How one read is done (tests replace it); readStagesLog by default. */
  readonly read?: typeof readStagesLog;
}

/**
 * `GET /api/lateness` behind the scenes: the log is read in the background, never in a request.
 * Each window setting has its own analysis; a request starts (or refreshes) it and is answered at
 * once from the last finished read, with the offsets that read reached. Any delays can be asked of
 * one analysis (the histograms answer them all), so they are not part of the cache key.
 */
export class LatenessService {
  private readonly analyses = new Map<string, Analysis>();
  private readonly stop = new AbortController();
  private readonly logger: Logger;

  constructor(private readonly options: LatenessServiceOptions) {
    this.logger = options.source.logger;
  }

  get defaults(): LatenessDefaults {
    return this.options.defaults;
  }

  answer(windows: LatenessWindows, delays: readonly number[], target: number): LatenessAnswer {
    const key = `${windows.sizeMs}/${windows.slideMs}`;
    let analysis = this.analyses.get(key);
    if (analysis === undefined) {
      analysis = {
        analyser: new LatenessAnalyser(windows),
        offsets: new Map(),
        answered: null,
        running: null,
        finishedAt: 0,
        error: null,
      };
      this.analyses.set(key, analysis);
      for (const old of this.analyses.keys())
        if (this.analyses.size > (this.options.keep ?? 4)) this.analyses.delete(old);
    } else {
      // Most recently asked for last (Map order), so the eviction above drops the oldest.
      this.analyses.delete(key);
      this.analyses.set(key, analysis);
    }
    if (analysis.running === null && Date.now() - analysis.finishedAt >= (this.options.refreshMs ?? 5_000))
      this.start(analysis);
    const answered = analysis.answered;
    return {
      state: analysis.running === null ? 'ready' : 'computing',
      windows,
      document:
        answered === null
          ? null
          : toDocument(answered.analyser.report(delays, target), this.options.source.topic, answered.offsets),
      computedAt: answered?.at.toISOString() ?? null,
      error: analysis.error,
    };
  }

  /** Resolves once no read is running (tests). */
  async settled(): Promise<void> {
    for (const analysis of this.analyses.values()) await analysis.running;
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.settled();
  }

  private start(analysis: Analysis): void {
    if (this.stop.signal.aborted) return;
    const read = this.options.read ?? readStagesLog;
    analysis.running = read(analysis.analyser, this.options.source, {
      from: analysis.offsets,
      signal: this.stop.signal,
    })
      .then((result: ReadResult) => {
        analysis.offsets = result.offsets;
        analysis.error = null;
        if (result.complete)
          analysis.answered = { analyser: analysis.analyser.clone(), offsets: result.offsets, at: new Date() };
      })
      .catch((error: unknown) => {
        // The analyser may have taken part of a batch: the next read starts from the log's start
        // (the last finished answer stays until then).
        analysis.error = error instanceof Error ? error.message : String(error);
        analysis.analyser = new LatenessAnalyser(analysis.analyser.windows);
        analysis.offsets = new Map();
        this.logger.warn({ err: error }, 'lateness: reading the stages log failed');
      })
      .finally(() => {
        analysis.running = null;
        analysis.finishedAt = Date.now();
      });
  }
}
