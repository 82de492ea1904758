import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../shared/logger.js';
import { startBroker, stopBroker } from './broker.js';
import type { BrokerState } from './broker-state.js';
import { freePort } from './processes.js';

export interface ThrowawayBroker {
  readonly brokers: string[];
  readonly state: BrokerState;
  /** What `startBroker` needs to start this broker again after a `stopBroker` (chaos tests). */
  readonly restart: {
    readonly stateDir: string;
    readonly cacheDir: string;
    readonly version: string;
    readonly port: number;
    readonly controllerPort: number;
    readonly heap: string;
  };
  /** Stops the broker and deletes everything it wrote. */
  stop(): Promise<void>;
}

export interface ThrowawayBrokerOptions {
  readonly cacheDir: string;
  readonly version: string;
  readonly heap?: string;
  readonly logger?: Logger;
}

/**
 * A broker on free ports with a fresh data directory in the system temp folder, for test runs
 * and benchmarks that must not touch (or collide with) the user's `kappa stack`.
 */
export async function startThrowawayBroker(options: ThrowawayBrokerOptions): Promise<ThrowawayBroker> {
  const stateDir = await mkdtemp(join(tmpdir(), 'kappa-broker-'));
  try {
    const restart = {
      stateDir,
      cacheDir: options.cacheDir,
      version: options.version,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: options.heap ?? '512m',
    };
    const { state } = await startBroker({
      ...restart,
      startTimeoutMs: 120_000,
      logger: options.logger ?? silentLogger,
    });
    return {
      brokers: [`${state.host}:${state.port}`],
      state,
      restart,
      stop: async () => {
        await stopBroker({ stateDir, timeoutMs: 30_000, purge: true });
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}
