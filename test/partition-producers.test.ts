import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { enrichGroup, enrichTransactionalId } from '../src/kafka/topics.js';
import { PartitionProducers } from '../src/stages/enrich/partition-producers.js';
import { createTestTopic, testKafka, useTestContext } from './support/context.js';

const context = useTestContext('partition-producers');

describe('PartitionProducers: a new owner of a partition', () => {
  const kafka = testKafka(context);
  let admin: Admin;
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(() => admin.disconnect());

  // The committed offset is read once earlier owners are fenced: an owner that could still commit
  // after the read would make the new one redo (and write again) what it committed.
  it('fences the earlier owner before it reads the committed offset: its open transaction cannot commit', async () => {
    const events = context.topic('fence-events');
    const out = context.topic('fence-out');
    await createTestTopic(admin, events, 1);
    await createTestTopic(admin, out, 1);
    const group = enrichGroup(out);
    const old = kafka.producer({
      transactionalId: enrichTransactionalId(group, events, 0),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await old.connect();
    const transaction = await old.transaction();
    await transaction.send({ topic: out, messages: [{ value: 'old owner', partition: 0 }] });
    // On a broker just started, __consumer_offsets is created by this test's first group request
    // and its coordinator answers NOT_COORDINATOR until it has loaded: ask again until it has.
    await expect
      .poll(
        () =>
          transaction
            .sendOffsets({
              consumerGroupId: group,
              topics: [{ topic: events, partitions: [{ partition: 0, offset: '7' }] }],
            })
            .then(
              () => 'sent',
              (error: unknown) => String(error),
            ),
        { timeout: 30_000, interval: 500 },
      )
      .toBe('sent');

    const producers = new PartitionProducers(kafka, admin, group, events);
    try {
      const { committed } = await producers.get(0);
      // The old owner's transaction was aborted by the fencing, so its offset never counts.
      expect(committed).toBe(-1n);
      await expect(transaction.commit()).rejects.toThrow(/epoch|fenced/i);
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [events] });
      expect(offsets?.partitions.find((entry) => entry.partition === 0)?.offset).toBe('-1');
    } finally {
      await Promise.all([producers.closeAll(), old.disconnect().catch(() => undefined)]);
    }
  });
});
