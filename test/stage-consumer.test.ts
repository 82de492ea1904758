import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { committedOffsets } from '../src/kafka/offsets.js';
import { StageConsumer } from '../src/stages/runtime/stage-consumer.js';
import { createTestTopic, testKafka, useTestContext } from './support/context.js';

const context = useTestContext('stage-consumer');
const RECORDS = 2_000;

describe('the stage consumer, against the real broker', () => {
  const kafka = testKafka(context);
  const admin = kafka.admin();
  const topic = context.topic('hints');
  beforeAll(async () => {
    await admin.connect();
    await createTestTopic(admin, topic, 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // 40 sends, 40 record batches in the log: a small fetch takes one or a few of them.
    for (let from = 0; from < RECORDS; from += 50)
      await producer.send({
        topic,
        messages: Array.from({ length: 50 }, (_, index) => ({ value: `record-${from + index}-${'x'.repeat(200)}` })),
      });
    await producer.disconnect();
  });
  afterAll(() => admin.disconnect());

  /** Reads the whole topic in small fetches (many batches) as a group of its own; the batches and the group's committed offset. */
  async function consumeAll(name: string, offsetHintEveryMs: number) {
    const groupId = `${context.prefix}-${name}`;
    const consumer = new StageConsumer({
      kafka,
      groupId,
      topic,
      logger: context.logger,
      config: { maxBytesPerPartition: 16 * 1024, maxBytes: 16 * 1024 },
    });
    let batches = 0;
    let seen = 0;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    try {
      await consumer.start({
        autoCommit: false,
        offsetHintEveryMs,
        partitionsConsumedConcurrently: 1,
        assigned: () => undefined,
        batch: (batch) => {
          batches += 1;
          seen += batch.messages.length;
          if (batch.end !== undefined) batch.processed(batch.end);
          if (seen >= RECORDS) done();
          return Promise.resolve({ kind: 'done' });
        },
      });
      await all;
    } finally {
      await consumer.close();
    }
    return { batches, committed: (await committedOffsets(admin, groupId, topic)).get(0) ?? 0n };
  }

  it('commits no offset after each batch when hints are due only every minute', async () => {
    // kafkajs's autoCommit would have committed after every batch: the whole log.
    const { batches, committed } = await consumeAll('rare', 60_000);
    expect(batches).toBeGreaterThan(10);
    expect(committed).toBe(0n);
  });

  it('commits the resolved offsets as a hint once one is due', async () => {
    const { committed } = await consumeAll('every', 0);
    expect(committed).toBe(BigInt(RECORDS));
  });
});
