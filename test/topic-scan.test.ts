import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { scanTopic, type ScannedBatch, type ScanOptions } from '../src/kafka/topic-scan.js';
import { createTestTopic, testKafka, useTestContext } from './support/context.js';

const context = useTestContext('topic-scan');

/**
 * The one reader of a whole topic that `recover --plan`, the lateness analysis and explanations
 * share, against the real broker: transactions (markers, aborted records), a start and a stop per
 * partition, and the trap of a fetch that holds transaction markers only.
 */
describe('scanTopic', () => {
  const kafka = testKafka(context);
  const admin = kafka.admin();
  const topic = context.topic('scanned');
  beforeAll(async () => {
    await admin.connect();
    await createTestTopic(admin, topic, 2);
    const producer = kafka.producer({
      transactionalId: `${context.prefix}-writer`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const write = async (messages: [number, string][], commit: boolean) => {
        const transaction = await producer.transaction();
        await transaction.send({ topic, messages: messages.map(([partition, value]) => ({ partition, value })) });
        await (commit ? transaction.commit() : transaction.abort());
      };
      // p0: 0–2 committed, 3 marker, 4–5 aborted, 6 marker, 7 committed, 8 marker (end 9).
      // p1: 0–1 committed, 2 marker (end 3).
      await write(
        [
          [0, 'a0'],
          [0, 'a1'],
          [0, 'a2'],
          [1, 'b0'],
          [1, 'b1'],
        ],
        true,
      );
      await write(
        [
          [0, 'x0'],
          [0, 'x1'],
        ],
        false,
      );
      await write([[0, 'a7']], true);
    } finally {
      await producer.disconnect();
    }
  });
  afterAll(() => admin.disconnect());

  async function scan(options: Omit<ScanOptions, 'group'>) {
    const batches: ScannedBatch[] = [];
    const result = await scanTopic(kafka, topic, (batch) => void batches.push(batch), {
      group: `${context.prefix}-scan`,
      ...options,
    });
    const read = (partition: number) =>
      batches
        .filter((batch) => batch.partition === partition)
        .flatMap((batch) => batch.records.map((record) => `${record.offset}:${record.value?.toString() ?? ''}`));
    return { result, batches, read };
  }

  it('reads the committed records to the end offsets, markers counted as read, one partition or all at once', async () => {
    for (const concurrent of [false, true]) {
      const { result, batches, read } = await scan({ concurrent });
      expect(result).toMatchObject({ exists: true, complete: true });
      expect(result.ends).toEqual(
        new Map([
          [0, 9n],
          [1, 3n],
        ]),
      );
      expect(result.next).toEqual(result.ends);
      expect(read(0)).toEqual(['0:a0', '1:a1', '2:a2', '7:a7']);
      expect(read(1)).toEqual(['0:b0', '1:b1']);
      for (const batch of batches) expect(batch.end).toBeGreaterThan(batch.from);
    }
  });

  it('starts where an earlier scan stopped, even on a transaction marker with nothing after it', async () => {
    const progress: [bigint, bigint][] = [];
    const { result, read } = await scan({
      from: new Map([
        [0, 3n],
        [1, 2n],
      ]),
      concurrent: true,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(result.complete).toBe(true);
    expect(result.next).toEqual(
      new Map([
        [0, 9n],
        [1, 3n],
      ]),
    );
    expect(read(0)).toEqual(['7:a7']);
    expect(read(1)).toEqual([]);
    expect(progress.at(-1)).toEqual([7n, 7n]);
  });

  it('stops at a version progress: before it in the partitions given, nothing of the others', async () => {
    const { result, read } = await scan({ until: new Map([[0, 4n]]) });
    expect(result.complete).toBe(true);
    expect(result.ends).toEqual(
      new Map([
        [0, 4n],
        [1, 0n],
      ]),
    );
    expect(read(0)).toEqual(['0:a0', '1:a1', '2:a2']);
    expect(read(1)).toEqual([]);
  });

  it('returns incomplete when stopped, and reads nothing of a topic that does not exist', async () => {
    const stopped = await scan({ signal: AbortSignal.abort() });
    expect(stopped.result.complete).toBe(false);
    const missing = await scanTopic(kafka, context.topic('missing'), () => undefined, { group: 'test-missing' });
    expect(missing).toMatchObject({ exists: false, complete: true });
  });
});
