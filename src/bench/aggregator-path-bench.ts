/**
 * Micro-benchmark of the aggregator's per-record path outside Kafka and MySQL: the driver
 * (AggregationDriver) over fetched-size batches of the replay row's records, each decoded (the
 * projected reader, as `kappa aggregate` decodes), classified and counted into windows, committed
 * into a MemorySink by the default limits:
 *
 *   npx tsx src/bench/aggregator-path-bench.ts [--count 200000] [--batch 1400] [--rounds 11]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/bench/aggregator-path-bench.ts
 *
 * The records are the replay row's (aggregate-bench.ts `fillStages`: one event a millisecond, the
 * sample tables' enrichment), window 10 s, watermark 15 s, all three default dimensions. A local
 * HTTP server answers GET /schemas/ids/1 as the registry would. Prints ns per record of each round,
 * their minimum and median; the minimum is the figure to compare between two versions of the code
 * (noise on a shared VM only adds). Indicative only: the whole replay also fetches and commits.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { AggregationDriver, type StagedRecord } from '../aggregates/aggregation-driver.js';
import { classifier, fieldsRead, type ClassifiedFields } from '../aggregates/batch-plan.js';
import { MemorySink } from '../aggregates/memory-sink.js';
import { DEFAULT_DIMS } from '../model/dimensions.js';
import { versionSettings } from '../model/version-settings.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import { parseAvro } from '../registry/avro-schema.js';
import { encodeWithSchemaId } from '../registry/wire-format.js';
import { formatEventTime } from '../shared/event-time.js';
import { enrich } from '../stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../stages/enrich/sample-tables.js';
import { REPLAY_BASE_MS } from './api-tables.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1400' },
    rounds: { type: 'string', default: '11' },
  },
});
const count = Number(values.count);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
const zone = 'Asia/Seoul';

const schema = readFileSync(new URL('../../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
const type = parseAvro(schema);
const records: StagedRecord[] = Array.from({ length: count }, (_, index) => {
  const event = enrich({ id: index, hello: 'x', time: formatEventTime(REPLAY_BASE_MS + index, zone) }, SAMPLE_TABLES);
  return {
    offset: BigInt(index),
    timestampMs: REPLAY_BASE_MS + index,
    key: Buffer.from(String(event.user_id)),
    value: encodeWithSchemaId(1, type, event),
  };
});

const registry = createServer((_, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ schema }));
});
await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;

const settings = versionSettings({
  window: 10_000,
  slide: 10_000,
  watermarkDelay: 15_000,
  dims: [...DEFAULT_DIMS],
  timeZone: zone,
  topicStages: 'events_stages',
});

/** One pass over the records in a fresh driver: ns per record. */
async function pass(): Promise<number> {
  const decoder = new AvroDecoder<ClassifiedFields>(registryUrl, schema, undefined, 'stop', fieldsRead(settings.dims));
  const classify = classifier(settings);
  const sink = new MemorySink();
  await sink.prepare({ version: 'v1', settings });
  const driver = new AggregationDriver({
    version: 'v1',
    stagesTopic: settings.stagesTopic,
    settings: settings.window,
    sink,
    classify: (record) => classify(decoder.decodeSync(record.value), record.timestampMs),
    publish: () => Promise.resolve(),
    deadLetterTopic: 'events_stages.dlq',
  });
  await decoder.prepare([records[0]?.value ?? null]);
  const started = process.hrtime.bigint();
  for (let from = 0; from < count; from += batchSize) {
    const batch = records.slice(from, from + batchSize);
    const last = batch.at(-1) as StagedRecord;
    await driver.batch(
      0,
      batch,
      { from: BigInt(from), end: last.offset + 1n, backlog: from + batchSize < count },
      { isActive: () => true, committed: () => Promise.resolve() },
    );
  }
  const nsPerRecord = Number(process.hrtime.bigint() - started) / count;
  if (sink.totals.size === 0) throw new Error('the driver committed no rows');
  return nsPerRecord;
}

const figures: number[] = [];
for (let round = 0; round < rounds; round += 1) figures.push(await pass());
registry.close();
const sorted = [...figures].sort((a, b) => a - b);
process.stdout.write(
  `aggregator path, ${count} records in batches of ${batchSize}: ${figures.map((ns) => ns.toFixed(0)).join(' ')} ns a record\n`,
);
process.stdout.write(
  `min ${sorted[0]?.toFixed(0)} ns, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ns\n`,
);
