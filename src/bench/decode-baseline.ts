import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { type EnrichedEvent } from '../model/enriched-event.js';
import { AvroDecoder } from '../registry/avro-decoder.js';
import type { Throughput } from './kafkajs-baseline.js';

/** The baseline: a plain kafkajs consumer decoding every record (same decoder, same path), nothing else. */
export async function consumeAndDecode(
  kafka: Kafka,
  registryUrl: string,
  topic: string,
  events: number,
): Promise<Throughput> {
  const schema = readFileSync(fileURLToPath(new URL('../../schemas/events_stages/v1.avsc', import.meta.url)), 'utf8');
  const decoder = new AvroDecoder<EnrichedEvent>(registryUrl, schema);
  const consumer = kafka.consumer({ groupId: `bench-decode-${randomUUID()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch }) => {
          if (first === 0) first = Date.now();
          // The decoder's fastest path, the aggregator's: the batch's writer schemas once, then
          // each record synchronously (an await per record measured 10-15 % slower).
          await decoder.prepare(batch.messages.map((message) => message.value));
          for (const message of batch.messages) decoder.decodeSync(message.value);
          seen += batch.messages.length;
          if (seen >= events) resolve();
        },
      })
      .catch(reject);
  });
  const seconds = (Date.now() - first) / 1_000;
  await consumer.disconnect();
  return { records: events, seconds, recordsPerSec: events / seconds };
}
