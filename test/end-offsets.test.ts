import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from '../src/kafka/kafkajs.js';
import { endOffsets, logStartOffset } from '../src/kafka/offsets.js';
import { KafkaUnreachableError } from '../src/shared/errors.js';
import { createTestTopic, testKafka, useTestContext } from './support/context.js';
import { freePort } from '../src/stack/processes.js';

const context = useTestContext('end-offsets');

describe('endOffsets, against the real broker', () => {
  const admin = testKafka(context).admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('gives every partition of a topic, and nothing for a topic that does not exist', async () => {
    const topic = context.topic('ends');
    await createTestTopic(admin, topic, 3);
    expect(await endOffsets(admin, topic)).toEqual(
      new Map([
        [0, 0n],
        [1, 0n],
        [2, 0n],
      ]),
    );
    expect(await endOffsets(admin, context.topic('never-created'))).toEqual(new Map());
  });

  it('logStartOffset: where a partition starts, beyond 0 once records were deleted (as retention does)', async () => {
    const kafka = testKafka(context);
    const topic = context.topic('starts');
    await createTestTopic(admin, topic, 2);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, partition: 0 })) });
    await producer.disconnect();
    expect(await logStartOffset(kafka, topic, 0)).toBe(0n);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    expect(await logStartOffset(kafka, topic, 0)).toBe(4n);
    expect(await logStartOffset(kafka, topic, 1)).toBe(0n);
  });

  it('fails with a retriable KafkaUnreachableError when no broker answers: never an empty map', async () => {
    // An empty map once let `recover --until-caught-up` take a failed read for a backlog of nothing.
    const port = await freePort();
    const lost = new Kafka({
      clientId: 'end-offsets-test',
      brokers: [`127.0.0.1:${port}`],
      connectionTimeout: 300,
      retry: { retries: 1, initialRetryTime: 50 },
      logLevel: logLevel.NOTHING,
    }).admin();
    await expect(endOffsets(lost, context.topic('ends'))).rejects.toBeInstanceOf(KafkaUnreachableError);
  });
});
