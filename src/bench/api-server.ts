/**
 * The API row's server under test, in a process of its own as `kappa serve` runs in production —
 * in the bench's process it would share one event loop with the load generator. Started by
 * api-bench.ts with `node --import tsx api-server.ts <json>`: `{"kind":"kappa", brokers,
 * registryUrl, mysqlUrl, stagesTopic}` starts `startApi`, `{"kind":"bare"}` the baseline (a bare
 * Fastify route answering a constant JSON body, or `body`). Prints `{"url":…}` on stdout once listening and
 * exits cleanly on SIGTERM (so `node --cpu-prof` writes its profile).
 */
import Fastify from 'fastify';
import { startApi } from '../api/server.js';
import { createLogger } from '../shared/logger.js';
import { useBenchKafkaSecurity } from './bench-security.js';

export type BenchServerSpec =
  /** `body`: answered as is (application/json); by default a constant 30-byte object. */
  | { readonly kind: 'bare'; readonly body?: string }
  | {
      readonly kind: 'kappa';
      readonly brokers: readonly string[];
      readonly registryUrl: string;
      readonly mysqlUrl: string;
      readonly stagesTopic: string;
    };

async function start(spec: BenchServerSpec): Promise<{ url: string; close(): Promise<void> }> {
  if (spec.kind === 'bare') {
    const bare = Fastify({ logger: false });
    const { body } = spec;
    if (body === undefined) bare.get('/constant', () => ({ version: 'v1', rows: [] }));
    else bare.get('/constant', (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
    const url = await bare.listen({ host: '127.0.0.1', port: 0 });
    return { url, close: () => bare.close() };
  }
  await useBenchKafkaSecurity();
  return startApi({
    brokers: spec.brokers,
    registryUrl: spec.registryUrl,
    mysqlUrl: spec.mysqlUrl,
    topicEvents: 'bench-events',
    topicStages: spec.stagesTopic,
    topicPartitions: 3,
    topicReplicationFactor: 1,
    schemasDir: new URL('../../schemas', import.meta.url).pathname,
    timeZone: 'Asia/Seoul',
    host: '127.0.0.1',
    port: 0,
    token: '',
    // Every request of the load comes from one address: under the default 6,000 a minute nearly all
    // would be answered 429. The highest limit the setting takes: still counted, never reached.
    requestRateLimit: 1_000_000,
    logger: createLogger('warn', 'bench-api'),
  });
}

const running = await start(JSON.parse(process.argv[2] ?? '{}') as BenchServerSpec);
process.once('SIGTERM', () => {
  void running.close().finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
