import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionGroupingInstalled, Partitioners, readCommittedFilterInstalled } from '../src/kafka/kafkajs.js';
import { endOffsets } from '../src/kafka/offsets.js';
import { testKafka, useTestContext, createTestTopic } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';

const context = useTestContext('read-committed');

describe('read_committed reads through kafkajs, against the real broker', () => {
  const kafka = testKafka(context);
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('sees none of several interleaved aborted transactions, aborted in an order unlike their start', async () => {
    expect(readCommittedFilterInstalled()).toBe(true);
    expect(partitionGroupingInstalled()).toBe(true);
    const topic = context.topic('crash');
    await createTestTopic(admin, topic, 1);
    const producer = (id: string) =>
      kafka.producer({
        transactionalId: `${context.prefix}-${id}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
    const [a, b, c, survivor] = [producer('a'), producer('b'), producer('c'), producer('survivor')];
    await Promise.all([a, b, c, survivor].map((each) => each.connect()));
    try {
      const send = (transaction: Awaited<ReturnType<typeof a.transaction>>, value: string) =>
        transaction.send({ topic, messages: [{ value }] });
      const committedFirst = await survivor.transaction();
      await send(committedFirst, 'committed-0');
      await committedFirst.commit();
      // Like a crashed stage's open transactions: b starts first, a second, c last, interleaved…
      const [tb, ta, tc] = [await b.transaction(), await a.transaction(), await c.transaction()];
      await send(tb, 'b-0');
      await send(ta, 'a-0');
      await send(tc, 'c-0');
      await send(tb, 'b-1');
      await send(ta, 'a-1');
      await send(tc, 'c-1');
      // …and aborted one by one as its successor takes each over: a first, so the broker lists a
      // before b although b started earlier.
      await ta.abort();
      await tb.abort();
      await tc.abort();
      const redone = await survivor.transaction();
      await send(redone, 'redone');
      await redone.commit();
    } finally {
      await Promise.all([a, b, c, survivor].map((each) => each.disconnect()));
    }
    const messages = await readAtLeast(kafka, topic, 2, 1_500);
    expect(messages.map((message) => message.value.toString())).toEqual(['committed-0', 'redone']);
  });

  it('sees exactly the committed records of one producer that aborts and commits alternately in one partition', async () => {
    const topic = context.topic('alternating');
    await createTestTopic(admin, topic, 1);
    const producer = kafka.producer({
      transactionalId: `${context.prefix}-alternating`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const committed: string[] = [];
    try {
      // One producer id, so the broker's aborted-transactions list for the partition holds several
      // entries of the same producer, each followed by a committed transaction of it.
      for (let round = 0; round < 8; round += 1) {
        const transaction = await producer.transaction();
        const values = [0, 1, 2].map((index) => `r${round}-${index}`);
        for (const value of values) await transaction.send({ topic, messages: [{ value }] });
        if (round % 2 === 0) await transaction.abort();
        else {
          await transaction.commit();
          committed.push(...values);
        }
      }
    } finally {
      await producer.disconnect();
    }
    const messages = await readAtLeast(kafka, topic, committed.length, 1_500);
    expect(messages.map((message) => message.value.toString())).toEqual(committed);
  });

  it('lists end offsets as last stable offsets: an open transaction lies beyond them (recover, status, cutover count on it)', async () => {
    const topic = context.topic('open-transaction');
    await createTestTopic(admin, topic, 2);
    const producer = kafka.producer({
      transactionalId: `${context.prefix}-open`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 0 },
        ],
      });
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ value: 'open', partition: 0 }] });
      expect(await endOffsets(admin, topic)).toEqual(
        new Map([
          [0, 2n],
          [1, 0n],
        ]),
      );
      await transaction.commit();
      // The record and its commit marker. commit() returns once the coordinator has logged the
      // decision; it writes the markers into the partitions after that, so the last stable offset
      // moves a moment later (CI once read 2 right after commit() returned).
      await expect
        .poll(() => endOffsets(admin, topic), { timeout: 10_000, interval: 100 })
        .toEqual(
          new Map([
            [0, 4n],
            [1, 0n],
          ]),
        );
    } finally {
      await producer.disconnect();
    }
  });
});
