import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { BenchServerSpec } from './api-server.js';

export interface LoadFigures {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
}

async function load(url: string, seconds: number): Promise<LoadFigures> {
  const result = await autocannon({ url, connections: 32, duration: seconds, pipelining: 1 });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
  };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = fileURLToPath(new URL('./api-server.ts', import.meta.url));

/**
 * Runs `spec`'s server in a child process while `work` loads it; with `profileDir`, under
 * `node --cpu-prof` (the profile is written there when the child exits).
 */
async function withServer<T>(
  spec: BenchServerSpec,
  profileDir: string | undefined,
  work: (url: string) => Promise<T>,
): Promise<T> {
  const child = spawn(
    process.execPath,
    [
      ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      '--import',
      'tsx',
      SERVER,
      JSON.stringify(spec),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  try {
    const lines = createInterface({ input: child.stdout });
    const first = await Promise.race([
      once(lines, 'line') as Promise<[string]>,
      exited.then(() => {
        throw new Error(`the bench's ${spec.kind} server exited before listening`);
      }),
    ]);
    const { url } = JSON.parse(first[0]) as { url: string };
    return await work(url);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

/**
 * `GET /api/windows/users?limit=100` (the serving version) of `kappa serve` under 32 concurrent
 * connections on loopback, next to a bare Fastify route answering a constant JSON body under the
 * same load — the difference is validation, SQL and serialisation. Each server runs in a child
 * process (as `kappa serve` runs in its own), autocannon in this one.
 */
export async function benchApi(options: {
  brokers: readonly string[];
  registryUrl: string;
  mysqlUrl: string;
  stagesTopic: string;
  logger: Logger;
  seconds?: number;
  /** `npm run bench -- --only api --cpu-prof-api <dir>`: profile the server under test. */
  profileDir?: string | undefined;
}): Promise<{ ours: LoadFigures; baseline: LoadFigures }> {
  const seconds = options.seconds ?? 10;
  const { brokers, registryUrl, mysqlUrl, stagesTopic } = options;
  // The serving version's path (no ?version=): the version comes from the pointer, in the same statement.
  const ours = await withServer(
    { kind: 'kappa', brokers, registryUrl, mysqlUrl, stagesTopic },
    options.profileDir,
    async (url) => {
      await load(`${url}/api/windows/users?limit=100`, 1); // warm-up: JIT, pool connections
      return load(`${url}/api/windows/users?limit=100`, seconds);
    },
  );
  options.logger.info({ ours }, 'kappa serve measured; now the bare Fastify baseline');
  const baseline = await withServer({ kind: 'bare' }, undefined, async (url) => {
    await load(`${url}/constant`, 1);
    return load(`${url}/constant`, seconds);
  });
  return { ours, baseline };
}
