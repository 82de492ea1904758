/**
 * `tsx src/bench/enrich-only.ts [--events N]`: the generator and enrichment rows of `npm run bench`
 * alone, on their own throw-away broker — for profiling the enrichment stage (`node --cpu-prof`).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { createLogger } from '../shared/logger.js';
import { startThrowawayBroker } from '../stack/throwaway-broker.js';
import { benchEnrich } from './enrich-bench.js';
import { benchGenerator } from './generator-bench.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' } } });
const logger = createLogger('warn', 'bench');
const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
const broker = await startThrowawayBroker({
  cacheDir: config.cacheDir,
  version: config.kafkaVersion,
  heap: '1g',
  logger,
});
try {
  const kafka = createKafka({ brokers: broker.brokers, logger });
  const { registryUrl, close } = await benchGenerator(kafka, broker.brokers, Number(values.events), logger, 1);
  try {
    const { total, rounds } = await benchEnrich(kafka, registryUrl, 'bench-events', logger, { rounds: 1 });
    const result = { total, ...rounds[0]! };
    const line = (name: string, figure: { recordsPerSec: number; cpuMicrosPerRecord: number }) =>
      `${name.padEnd(16)} ${Math.round(figure.recordsPerSec).toLocaleString('en')} ev/s  ` +
      `(${(figure.recordsPerSec / result.baseline.recordsPerSec).toFixed(2)} of the plain copy), ` +
      `${figure.cpuMicrosPerRecord.toFixed(1)} µs CPU per event in this process\n`;
    process.stdout.write(
      `${result.total} events\n` +
        line('exactly once', result.eos) +
        line('at least once', result.atLeastOnce) +
        line('plain copy', result.baseline) +
        `exactly once / at least once: ${(result.eos.recordsPerSec / result.atLeastOnce.recordsPerSec).toFixed(2)}\n`,
    );
  } finally {
    await close();
  }
} finally {
  await broker.stop();
}
