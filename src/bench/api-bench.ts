import autocannon from 'autocannon';
import Fastify from 'fastify';
import { startApi } from '../api/server.js';
import type { Logger } from '../shared/logger.js';

export interface LoadFigures {
  readonly requestsPerSec: number;
  readonly p99Ms: number;
  readonly non2xx: number;
}

async function load(url: string, seconds: number): Promise<LoadFigures> {
  const result = await autocannon({ url, connections: 32, duration: seconds, pipelining: 1 });
  return { requestsPerSec: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx };
}

/**
 * `GET /api/windows/users` (the serving version) of `kappa serve` under 32 concurrent connections on loopback (reading
 * the aggregate bench's tables), next to a bare Fastify route answering a constant JSON body with
 * the same load — the difference is validation, SQL and serialisation.
 */
export async function benchApi(options: {
  brokers: readonly string[];
  registryUrl: string;
  mysqlUrl: string;
  stagesTopic: string;
  logger: Logger;
  seconds?: number;
}): Promise<{ ours: LoadFigures; baseline: LoadFigures }> {
  const seconds = options.seconds ?? 10;
  const api = await startApi({
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    mysqlUrl: options.mysqlUrl,
    topicEvents: 'bench-events',
    topicStages: options.stagesTopic,
    topicPartitions: 3,
    topicReplicationFactor: 1,
    schemasDir: new URL('../../schemas', import.meta.url).pathname,
    timeZone: 'Asia/Seoul',
    host: '127.0.0.1',
    port: 0,
    token: '',
    logger: options.logger,
  });
  let ours: LoadFigures;
  try {
    // The serving version's path (no ?version=): the version comes from the pointer, in the same statement.
    ours = await load(`${api.url}/api/windows/users?limit=100`, seconds);
  } finally {
    await api.close();
  }
  const bare = Fastify({ logger: false });
  bare.get('/constant', () => ({ version: 'v1', rows: [] }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  try {
    return { ours, baseline: await load(`${bareUrl}/constant`, seconds) };
  } finally {
    await bare.close();
  }
}
