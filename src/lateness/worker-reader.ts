import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogLevel } from '../shared/logger.js';
import { LatenessAnalyser } from './analyser.js';
import type { WorkerReply, WorkerRequest } from './analysis-worker.js';
import type { ReadOptions, ReadResult, StagesLogSource } from './log-reader.js';

/** Where the stages log is, as plain data a worker thread can be given (no Kafka client). */
export interface WorkerSource extends Omit<StagesLogSource, 'kafka' | 'logger'> {
  readonly brokers: readonly string[];
  readonly logLevel?: LogLevel;
}

/** A read's result, with the analyser it left (a copy: the worker had its own). */
export interface WorkerReadResult extends ReadResult {
  readonly analyser: LatenessAnalyser;
}

/**
 * The worker's entry beside this module, with this module's own extension: `.ts` when run through
 * tsx (tests, `bin/kappa.js`), `.js` when compiled. A `.ts` entry needs tsx's loader in the worker
 * too (module hooks are per thread), resolved from here so the working directory does not matter.
 */
function workerEntry(): { readonly url: URL; readonly execArgv: string[] } {
  const here = import.meta.url;
  const extension = here.endsWith('.ts') ? 'ts' : 'js';
  const url = new URL(`./analysis-worker.${extension}`, here);
  if (extension === 'js') return { url, execArgv: [...process.execArgv] };
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { url, execArgv: [...process.execArgv, '--import', tsx] };
}

/**
 * readStagesLog in a worker thread: the main thread's event loop keeps serving while the log is
 * read and analysed. Aborting terminates the worker at once (whatever it is doing) and resolves
 * as an incomplete read that got nowhere.
 */
export function readInWorker(
  analyser: LatenessAnalyser,
  source: WorkerSource,
  options: ReadOptions = {},
): Promise<WorkerReadResult> {
  const from = options.from ?? new Map<number, bigint>();
  const request: WorkerRequest = {
    brokers: source.brokers,
    registryUrl: source.registryUrl,
    schemasDir: source.schemasDir,
    topic: source.topic,
    timeZone: source.timeZone,
    logLevel: source.logLevel ?? 'warn',
    analyser: analyser.toJSON(),
    from: [...from].map(([partition, offset]) => [partition, String(offset)] as const),
  };
  const { url, execArgv } = workerEntry();
  return new Promise<WorkerReadResult>((resolve, reject) => {
    const abandoned = (): WorkerReadResult => ({ analyser, offsets: from, complete: false });
    if (options.signal?.aborted === true) {
      resolve(abandoned());
      return;
    }
    const worker = new Worker(url, { workerData: request, execArgv });
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', abort);
      settle();
      void worker.terminate();
    };
    const abort = () => finish(() => resolve(abandoned()));
    options.signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (reply: WorkerReply) =>
      finish(() =>
        reply.ok
          ? resolve({
              analyser: LatenessAnalyser.fromJSON(reply.analyser),
              offsets: new Map(reply.offsets.map(([partition, offset]) => [partition, BigInt(offset)])),
              complete: reply.complete,
            })
          : reject(new Error(reply.message)),
      ),
    );
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) =>
      finish(() => reject(new Error(`the lateness worker exited (code ${code}) before answering`))),
    );
  });
}
