/**
 * The worker thread of `GET /api/lateness` (see worker-reader.ts): one read of the stages log into
 * an analyser, off the event loop that serves the API and runs the stages. Everything it needs
 * comes as plain data in `workerData`; the analyser's new state goes back in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka } from '../kafka/client.js';
import { createLogger, type LogLevel } from '../shared/logger.js';
import { LatenessAnalyser, type AnalyserState } from './analyser.js';
import { readStagesLog } from './log-reader.js';

/** What the main thread sends: where the log is, and where the previous read stopped. */
export interface WorkerRequest {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly schemasDir: string;
  readonly topic: string;
  readonly timeZone: string;
  readonly maxFutureMs?: number;
  readonly logLevel: LogLevel;
  readonly analyser: AnalyserState;
  /** [partition, next offset as a decimal string] */
  readonly from: readonly (readonly [number, string])[];
}

export type WorkerReply =
  | {
      readonly ok: true;
      readonly analyser: AnalyserState;
      readonly offsets: readonly (readonly [number, string])[];
      readonly complete: boolean;
    }
  | { readonly ok: false; readonly message: string };

async function run(request: WorkerRequest): Promise<WorkerReply> {
  const logger = createLogger(request.logLevel, 'kappa-lateness-worker');
  const analyser = LatenessAnalyser.fromJSON(request.analyser);
  const result = await readStagesLog(
    analyser,
    {
      kafka: createKafka({ brokers: request.brokers, logger, clientId: 'kappa-lateness' }),
      registryUrl: request.registryUrl,
      schemasDir: request.schemasDir,
      topic: request.topic,
      timeZone: request.timeZone,
      ...(request.maxFutureMs === undefined ? {} : { maxFutureMs: request.maxFutureMs }),
      logger,
    },
    { from: new Map(request.from.map(([partition, offset]) => [partition, BigInt(offset)])) },
  );
  return {
    ok: true,
    analyser: analyser.toJSON(),
    offsets: [...result.offsets].map(([partition, offset]) => [partition, String(offset)] as const),
    complete: result.complete,
  };
}

if (parentPort !== null) {
  const port = parentPort;
  void run(workerData as WorkerRequest)
    .catch((error: unknown): WorkerReply => ({
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    }))
    // The main thread terminates the worker once the reply is in (a kafkajs timer may linger).
    .then((reply) => port.postMessage(reply));
}
