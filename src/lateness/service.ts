import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LatenessAnalyser, type LatenessWindows } from './analyser.js';
import { toDocument, type LatenessDocument } from './format.js';
import type { ReadOptions, ReadResult } from './log-reader.js';
import { readInWorker, type WorkerSource } from './worker-reader.js';

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
  readonly key: string;
  analyser: LatenessAnalyser;
  offsets: ReadonlyMap<number, bigint>;
  answered: {
    readonly analyser: LatenessAnalyser;
    readonly offsets: ReadonlyMap<number, bigint>;
    readonly at: Date;
  } | null;
  /** Waiting for its turn, or reading (then `abort` stops it). */
  state: 'idle' | 'queued' | 'reading';
  running: Promise<void> | null;
  abort: AbortController | null;
  finishedAt: number;
  /** When a request last asked for it: nobody asking for `abandonMs` aborts its read. */
  askedAt: number;
  error: string | null;
}

export interface LatenessDefaults {
  readonly windows: LatenessWindows;
  readonly delays: readonly number[];
  readonly target: number;
}

/** A read of the log into an analyser; resolves with the analyser it leaves when that is a new one. */
export type LatenessRead = (
  analyser: LatenessAnalyser,
  source: WorkerSource,
  options: ReadOptions,
) => Promise<ReadResult & { readonly analyser?: LatenessAnalyser }>;

export interface LatenessServiceOptions {
  readonly source: WorkerSource;
  /** What a request that does not say gets (KAPPA_WINDOW, KAPPA_SLIDE, KAPPA_LATENESS_*). */
  readonly defaults: LatenessDefaults;
  /** A finished analysis is read on from its offsets at most this often. */
  readonly refreshMs?: number;
  /** How many window settings are kept (least recently asked for, idle, dropped first). */
  readonly keep?: number;
  /** How many analyses may wait for the one that reads; a new one beyond that is refused (busy). */
  readonly queue?: number;
  /** A read nobody asked about for this long is abandoned: aborted (its worker terminated). */
  readonly abandonMs?: number;
  /** How one read is done (tests replace it); in a worker thread by default. */
  readonly read?: LatenessRead;
  readonly logger: Logger;
}

/**
 * `GET /api/lateness` behind the scenes: the log is read in the background, never in a request,
 * and never on the event loop that serves the API and runs the stages: each read runs in a worker
 * thread (worker-reader.ts). One read at a time; at most `queue` analyses wait for their turn and
 * `keep` are remembered — a new window setting beyond that is refused (`KAPPA_LATENESS_BUSY`), so
 * requests cannot pile up work. A read nobody has asked about for `abandonMs` is aborted.
 *
 * Each window setting has its own analysis; a request starts (or refreshes) it and is answered at
 * once from the last finished read, with the offsets that read reached. Any delays can be asked of
 * one analysis (the histograms answer them all), so they are not part of the cache key.
 */
export class LatenessService {
  private readonly analyses = new Map<string, Analysis>();
  private readonly waiting: Analysis[] = [];
  private reading: Analysis | null = null;
  private closed = false;
  private readonly logger: Logger;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: LatenessServiceOptions) {
    this.logger = options.logger;
    const abandonMs = options.abandonMs ?? 30_000;
    this.sweeper = setInterval(() => this.abandonUnasked(), Math.min(abandonMs, 5_000));
    this.sweeper.unref();
  }

  get defaults(): LatenessDefaults {
    return this.options.defaults;
  }

  /** @throws KappaError KAPPA_LATENESS_BUSY when a new window setting finds no room. */
  answer(windows: LatenessWindows, delays: readonly number[], target: number): LatenessAnswer {
    const key = `${windows.sizeMs}/${windows.slideMs}`;
    const now = Date.now();
    let analysis = this.analyses.get(key);
    if (analysis === undefined) {
      analysis = this.admit(key, windows);
    } else {
      // Most recently asked for last (Map order), so eviction drops the oldest.
      this.analyses.delete(key);
      this.analyses.set(key, analysis);
    }
    analysis.askedAt = now;
    if (analysis.state === 'idle' && now - analysis.finishedAt >= (this.options.refreshMs ?? 5_000))
      this.enqueue(analysis);
    const answered = analysis.answered;
    return {
      state: analysis.state === 'idle' ? 'ready' : 'computing',
      windows,
      document:
        answered === null
          ? null
          : toDocument(answered.analyser.report(delays, target), this.options.source.topic, answered.offsets),
      computedAt: answered?.at.toISOString() ?? null,
      error: analysis.error,
    };
  }

  /** Resolves once no read is running or waiting (tests). */
  async settled(): Promise<void> {
    while (this.reading !== null) await this.reading.running;
  }

  /** Aborts every read (terminating its worker) and forgets the queue. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const analysis of this.waiting.splice(0)) analysis.state = 'idle';
    this.reading?.abort?.abort();
    await this.settled();
  }

  /** A new window setting's analysis, if there is room for it. */
  private admit(key: string, windows: LatenessWindows): Analysis {
    const keep = this.options.keep ?? 4;
    const busy = () =>
      new KappaError(
        'KAPPA_LATENESS_BUSY',
        `lateness analyses are busy (one reads, ${this.waiting.length} wait, ${this.analyses.size} kept): ask again shortly, or for a window setting already analysed`,
      );
    if (this.waiting.length >= (this.options.queue ?? 3)) throw busy();
    if (this.analyses.size >= keep) {
      const idle = [...this.analyses.values()].find((entry) => entry.state === 'idle');
      if (idle === undefined) throw busy();
      this.analyses.delete(idle.key);
    }
    const analysis: Analysis = {
      key,
      analyser: new LatenessAnalyser(windows),
      offsets: new Map(),
      answered: null,
      state: 'idle',
      running: null,
      abort: null,
      finishedAt: 0,
      askedAt: Date.now(),
      error: null,
    };
    this.analyses.set(key, analysis);
    return analysis;
  }

  private enqueue(analysis: Analysis): void {
    if (this.closed) return;
    analysis.state = 'queued';
    this.waiting.push(analysis);
    this.next();
  }

  /** Starts the next waiting read when none is running. */
  private next(): void {
    if (this.reading !== null || this.closed) return;
    const analysis = this.waiting.shift();
    if (analysis === undefined) return;
    this.reading = analysis;
    analysis.state = 'reading';
    const abort = new AbortController();
    analysis.abort = abort;
    const read = this.options.read ?? readInWorker;
    analysis.running = read(analysis.analyser, this.options.source, { from: analysis.offsets, signal: abort.signal })
      .then((result) => {
        if (result.analyser !== undefined) analysis.analyser = result.analyser;
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
        analysis.state = 'idle';
        analysis.abort = null;
        analysis.finishedAt = Date.now();
        this.reading = null;
        this.next();
      });
  }

  /** Reads and waits nobody asked about for `abandonMs`: the client has gone, the work stops. */
  private abandonUnasked(): void {
    const limit = Date.now() - (this.options.abandonMs ?? 30_000);
    for (let index = this.waiting.length - 1; index >= 0; index -= 1) {
      const analysis = this.waiting[index] as Analysis;
      if (analysis.askedAt >= limit) continue;
      this.waiting.splice(index, 1);
      analysis.state = 'idle';
    }
    if (this.reading !== null && this.reading.askedAt < limit) {
      this.logger.info({ windows: this.reading.key }, 'lateness: nobody asks any more; the read is aborted');
      this.reading.abort?.abort();
    }
  }
}
