import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { CompressionTypes, Partitioners } from '../kafka/kafkajs.js';

export interface Throughput {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSec: number;
}

function throughput(records: number, startedAt: bigint): Throughput {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { records, seconds, recordsPerSec: records / seconds };
}

/**
 * A plain kafkajs producer doing what kafka-producer-perf-test does: fixed-size random values,
 * acks=all, no compression, batches of `batchSize` with a few sends in flight.
 */
export async function kafkajsProduce(
  kafka: Kafka,
  topic: string,
  records: number,
  recordSize: number,
  batchSize = 1_000,
  inFlight = 4,
): Promise<Throughput> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const value = randomBytes(recordSize);
  const batch = Array.from({ length: batchSize }, () => ({ value }));
  const startedAt = process.hrtime.bigint();
  let sent = 0;
  const pending = new Set<Promise<unknown>>();
  while (sent < records) {
    const messages = batch.slice(0, Math.min(batchSize, records - sent));
    sent += messages.length;
    const send = producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    pending.add(send);
    void send.finally(() => pending.delete(send));
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const result = throughput(records, startedAt);
  await producer.disconnect();
  return result;
}

/** A plain kafkajs consumer reading `records` records from the beginning with eachBatch. */
export async function kafkajsConsume(kafka: Kafka, topic: string, records: number): Promise<Throughput> {
  const consumer = kafka.consumer({ groupId: `kappa-bench-kafkajs-${Date.now()}`, maxBytes: 10_485_760 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let startedAt: bigint | undefined;
  const result = await new Promise<Throughput>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kafkajs consumer read ${seen}/${records} records in 120 s`)),
      120_000,
    );
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachBatch: ({ batch }) => {
          startedAt ??= process.hrtime.bigint();
          seen += batch.messages.length;
          if (seen >= records) {
            clearTimeout(timer);
            resolve(throughput(seen, startedAt));
          }
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return result;
}
