import type { Consumer, Kafka } from 'kafkajs';
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

  /** `kafka`, keeping the consumer it makes, so a test can watch kafkajs's own events. */
  function watched(): { kafka: Kafka; consumer: () => Consumer } {
    let made: Consumer | undefined;
    const spy = Object.create(kafka) as Kafka;
    spy.consumer = (config) => (made = kafka.consumer(config));
    return {
      kafka: spy,
      consumer: () => {
        if (made === undefined) throw new Error('no consumer made yet');
        return made;
      },
    };
  }

  /** Whether kafkajs sent a second fetch before the first batch's processing ended (waiting up to 3 s for one). */
  async function fetchesWhileProcessing(name: string, pipelined: boolean): Promise<boolean> {
    const { kafka: spy, consumer: made } = watched();
    const consumer = new StageConsumer({
      kafka: spy,
      groupId: `${context.prefix}-${name}`,
      topic,
      logger: context.logger,
      config: { maxBytesPerPartition: 16 * 1024, maxBytes: 16 * 1024 },
    });
    let fetches = 0;
    made().on(made().events.FETCH_START, () => (fetches += 1));
    let answer: (fetched: boolean) => void = () => undefined;
    const answered = new Promise<boolean>((resolve) => (answer = resolve));
    try {
      await consumer.start({
        autoCommit: false,
        pipelined,
        partitionsConsumedConcurrently: 1,
        assigned: () => undefined,
        // The first batch came with the first fetch: is there a second before its processing ends?
        batch: async () => {
          for (let waited = 0; waited < 3_000 && fetches < 2; waited += 20)
            await new Promise((resolve) => setTimeout(resolve, 20));
          answer(fetches >= 2);
          return { kind: 'done' };
        },
      });
      return await answered;
    } finally {
      await consumer.close();
    }
  }

  it('pipelined, sends the next fetch while a batch is processed; otherwise not', async () => {
    expect(await fetchesWhileProcessing('pipelined', true)).toBe(true);
    expect(await fetchesWhileProcessing('in-turn', false)).toBe(false);
  });

  it('pipelined, a failure of the log’s last batch reaches kafkajs and the batch is delivered again', async () => {
    const single = context.topic('single');
    await createTestTopic(admin, single, 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: single,
      messages: Array.from({ length: 10 }, (_, index) => ({ value: `v${index}` })),
    });
    await producer.disconnect();
    const consumer = new StageConsumer({
      kafka,
      groupId: `${context.prefix}-failing`,
      topic: single,
      logger: context.logger,
    });
    const deliveries: string[][] = [];
    let done: () => void = () => undefined;
    const processed = new Promise<void>((resolve) => (done = resolve));
    try {
      await consumer.start({
        autoCommit: false,
        pipelined: true,
        partitionsConsumedConcurrently: 1,
        assigned: () => undefined,
        batch: (batch) => {
          deliveries.push(batch.messages.map((message) => message.value?.toString() ?? ''));
          // A transient failure (kafkajs restarts the consumer on it), once.
          if (deliveries.length === 1)
            return Promise.reject(Object.assign(new Error('transient'), { retriable: true }));
          done();
          return Promise.resolve({ kind: 'done' });
        },
      });
      await processed;
    } finally {
      await consumer.close();
    }
    const all = Array.from({ length: 10 }, (_, index) => `v${index}`);
    expect(deliveries[0]).toEqual(all);
    expect(deliveries[1]).toEqual(all);
  }, 60_000);

  it('pipelined, processes no batch of a new assignment before its handler settled (the seeks it made included)', async () => {
    // The group's offsets are ahead of the stage's truth (an aggregator's progress in MySQL, behind
    // after an outage): kafkajs's first fetch starts there, while the stage is still reading its
    // progress to seek back. A batch fetched before that seek must never be processed.
    const groupId = `${context.prefix}-seek-on-assign`;
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1000' }] });
    const consumer = new StageConsumer({
      kafka,
      groupId,
      topic,
      logger: context.logger,
      config: { maxBytesPerPartition: 16 * 1024, maxBytes: 16 * 1024 },
    });
    const starts: (bigint | undefined)[] = [];
    let done: () => void = () => undefined;
    const processed = new Promise<void>((resolve) => (done = resolve));
    try {
      await consumer.start({
        autoCommit: false,
        pipelined: true,
        partitionsConsumedConcurrently: 1,
        // The progress arrives well after kafkajs's first fetch (a MySQL round trip, slowed down).
        assigned: async () => {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          consumer.seek(0, 0n);
        },
        batch: (batch) => {
          starts.push(batch.messages[0] === undefined ? undefined : BigInt(batch.messages[0].offset));
          if (starts.length === 3) done();
          return Promise.resolve({ kind: 'done' });
        },
      });
      await processed;
    } finally {
      await consumer.close();
    }
    expect(starts[0]).toBe(0n);
    expect(starts.every((start) => start !== undefined && start < 1000n)).toBe(true);
  }, 60_000);
});
