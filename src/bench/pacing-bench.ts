/**
 * `npx tsx src/bench/pacing-bench.ts [--rates 2000,7500,15000] [--seconds 10]`: `kappa ingest
 * --rate R` in-process against a throw-away broker, for each rate; prints what reached the log per
 * second against what was asked (the whole-pipeline bench's measure: the log's end offsets from
 * the first event on), and what was generated. A check of the pacing alone, without the stages;
 * rate 0 gives the unthrottled ceiling.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropBenchDatabase, MYSQL_ROOT } from './bench-database.js';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { endOffsets } from '../kafka/offsets.js';
import { runIngest } from '../ingest/ingest-run.js';
import { startRegistry } from '../registry/server.js';
import { createLogger } from '../shared/logger.js';
import { startThrowawayBroker } from '../stack/throwaway-broker.js';

const { values } = parseArgs({
  options: { rates: { type: 'string', default: '2000,7500,15000' }, seconds: { type: 'string', default: '10' } },
});
const rates = (values.rates ?? '').split(',').map(Number);
const seconds = Number(values.seconds);
const logger = createLogger('warn', 'pacing-bench');
const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
const broker = await startThrowawayBroker({ cacheDir: config.cacheDir, version: config.kafkaVersion, logger });
const kafka = createKafka({ brokers: broker.brokers, logger });
const registry = await startRegistry({
  brokers: broker.brokers,
  topic: '_pacing_schemas',
  replicationFactor: 1,
  host: '127.0.0.1',
  port: 0,
  logger,
});
const admin = kafka.admin();
await admin.connect();
const database = `kappa_pacing_bench_${Date.now()}`;
const total = async (topic: string) => {
  const offsets = await endOffsets(admin, topic).catch(() => new Map<number, bigint>());
  return [...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0);
};

try {
  for (const rate of rates) {
    const topic = `pacing-${rate}-${Date.now()}`;
    const bufferDir = await mkdtemp(join(tmpdir(), 'kappa-pacing-buffer-'));
    const stop = new AbortController();
    const run = runIngest({
      kafka,
      registryUrl: registry.url,
      topics: { topicEvents: topic, topicStages: `${topic}_stages`, topicPartitions: 3, topicReplicationFactor: 1 },
      schemasDir: fileURLToPath(new URL('../../schemas', import.meta.url)),
      rate,
      template: { hello: 'ssm-seoul' },
      timeZone: 'Asia/Seoul',
      lateFraction: 0,
      lateByMs: 0,
      seed: 1,
      bufferDir,
      mysqlUrl: `${MYSQL_ROOT}/${database}`,
      logger,
      signal: stop.signal,
      drainTimeoutMs: 0,
    });
    // As the whole-pipeline bench does: the clock starts with the first event in the log.
    while ((await total(topic)) === 0) await sleep(50);
    const started = Date.now();
    const first = await total(topic);
    await sleep(seconds * 1_000);
    const written = (await total(topic)) - first;
    const elapsed = (Date.now() - started) / 1_000;
    stop.abort();
    const summary = await run;
    await rm(bufferDir, { recursive: true, force: true });
    const line = {
      asked: rate,
      written: Math.round(written / elapsed),
      // Rate 0 (unlimited) has no asked rate: its `written` is the ceiling the others compare with.
      ...(rate > 0 && {
        ratio: Number((written / elapsed / rate).toFixed(3)),
        generatedRatio: Number((summary.generated / summary.runSeconds / rate).toFixed(3)),
      }),
      leftBuffered: summary.buffered,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
} finally {
  await admin.disconnect();
  await registry.close();
  await broker.stop();
  await dropBenchDatabase(database);
}
