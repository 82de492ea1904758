/**
 * Micro-benchmark of what a fetch costs per record before the aggregator sees it: a fetch
 * response's record batches decoded and kept by the consumer's Batch (its records from the fetched
 * offset on), kafkajs's way and ours, in turns:
 *
 *   npx tsx src/bench/fetch-decode-bench.ts [--batches 10] [--records 500] [--rounds 41]
 *
 * - kafkajs: its record batch decoder (each record cut out of the batch and wrapped in a Decoder of
 *   its own) and its Batch (each offset parsed into a Long); both bind our record decoder and
 *   read_committed filter, as they did before batch-decoder.ts and fetched-batch.ts.
 * - ours: what src/kafka/kafkajs.ts installs: records read in place, offsets compared as texts.
 *
 * The records are shaped like the stages topic's (a key, a ~90-byte value, the two writer headers).
 * Prints ns per record of each round, their minimum and median; the minimum is the figure to
 * compare (noise on a shared VM only adds). Both sides return the same records: the unit tests
 * (batch-decoder.test.ts, fetched-batch.test.ts) prove it.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { kafkajsOriginal } from './kafkajs-original.js';
import '../kafka/kafkajs.js';
import { median } from './report.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '10' },
    records: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '41' },
  },
});
const batchCount = Number(values.batches);
const perBatch = Number(values.records);
const rounds = Number(values.rounds);

const require = createRequire(import.meta.url);
interface Decoder {
  offset: number;
  readonly buffer: Buffer;
  canReadBytes(length: number): boolean;
}
type BatchDecoder = (decoder: Decoder) => Promise<{ records: unknown[] }>;
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: object) => { messages: unknown[] };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => Decoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: object) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown };

const sides = {
  kafkajs: {
    decode: kafkajsOriginal<BatchDecoder>('kafkajs/src/protocol/recordBatch/v0/decoder.js'),
    Batch: kafkajsOriginal<BatchClass>('kafkajs/src/consumer/batch.js'),
  },
  ours: {
    decode: require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as BatchDecoder,
    Batch: require('kafkajs/src/consumer/batch.js') as BatchClass,
  },
};

const FIRST_OFFSET = 1_234_567n;
const batches: Buffer[] = [];
for (let index = 0; index < batchCount; index += 1) {
  const first = FIRST_OFFSET + BigInt(index * perBatch);
  const records = Array.from({ length: perBatch }, (_, at) =>
    Record({
      key: `user-${(index * perBatch + at) % 977}`,
      value: Buffer.alloc(90, at % 251),
      headers: { 'kappa.writer': 'kappa enrich', 'kappa.writer-id': 'writer-000000000042' },
      offsetDelta: at,
      timestampDelta: at,
    }),
  );
  const { buffer } = await RecordBatch({
    firstOffset: Long.fromValue(first),
    firstTimestamp: 1_796_000_000_000 + index * perBatch,
    maxTimestamp: 1_796_000_000_000 + (index + 1) * perBatch,
    lastOffsetDelta: perBatch - 1,
    records,
  });
  batches.push(buffer);
}
const fetched = Buffer.concat(batches);
const total = batchCount * perBatch;

async function decodeFetch(side: (typeof sides)['ours']): Promise<number> {
  const decoder = new Decoder(fetched);
  const messages: unknown[] = [];
  while (decoder.canReadBytes(61)) {
    const batch = await side.decode(decoder);
    for (const record of batch.records) messages.push(record);
  }
  // The consumer asked from the first record's offset: every record is kept, each compared.
  return new side.Batch('stages', String(FIRST_OFFSET), { partition: 0, highWatermark: '0', messages }).messages.length;
}

const times: Record<keyof typeof sides, number[]> = { kafkajs: [], ours: [] };
for (let round = 0; round < rounds; round += 1) {
  for (const name of round % 2 === 0 ? (['kafkajs', 'ours'] as const) : (['ours', 'kafkajs'] as const)) {
    const started = process.hrtime.bigint();
    const kept = await decodeFetch(sides[name]);
    const ns = Number(process.hrtime.bigint() - started) / total;
    if (kept !== total) throw new Error(`${name} kept ${kept} of ${total} records`);
    times[name].push(ns);
  }
}
for (const [name, list] of Object.entries(times))
  process.stdout.write(
    `${name.padEnd(8)} ns/record: ${list.map((ns) => ns.toFixed(0)).join(' ')}  min ${Math.min(...list).toFixed(0)}  median ${median(list).toFixed(0)}\n`,
  );
