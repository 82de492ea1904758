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
 * How to start the worker: its entry beside this module, with this module's own extension — `.js`
 * when compiled, `.ts` when run through tsx (tests, `bin/kappa.js`). Module hooks are per thread
 * and Node 20 does not apply an `--import` loader to a worker's entry module, so a `.ts` entry is
 * started by a one-line script that registers tsx first (as bin/kappa.js does), with tsx resolved
 * from here: the working directory does not matter.
 */
function workerStart(): { readonly entry: URL | string; readonly eval: boolean } {
  const here = import.meta.url;
  const extension = here.endsWith('.ts') ? 'ts' : 'js';
  const entry = new URL(`./analysis-worker.${extension}`, here);
  if (extension === 'js') return { entry, eval: false };
  const require = createRequire(here);
  const manifest = require.resolve('tsx/package.json');
  const exports = (require(manifest) as { exports: Record<string, { import?: { default?: string } }> }).exports;
  const api = new URL(exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs', pathToFileURL(manifest));
  const script = `import(${JSON.stringify(api.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return { entry: script, eval: true };
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
    ...(source.maxFutureMs === undefined ? {} : { maxFutureMs: source.maxFutureMs }),
    logLevel: source.logLevel ?? 'warn',
    analyser: analyser.toJSON(),
    from: [...from].map(([partition, offset]) => [partition, String(offset)] as const),
  };
  const start = workerStart();
  return new Promise<WorkerReadResult>((resolve, reject) => {
    const abandoned = (): WorkerReadResult => ({ analyser, offsets: from, complete: false });
    if (options.signal?.aborted === true) {
      resolve(abandoned());
      return;
    }
    const worker = new Worker(start.entry, { workerData: request, eval: start.eval });
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
