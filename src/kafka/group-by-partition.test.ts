import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kafkajsOriginal } from '../../test/support/kafkajs-original.js';
import { groupMessagesPerPartition, type GroupingInput } from './group-by-partition.js';

const original = kafkajsOriginal<<M>(input: GroupingInput<M>) => Record<number, M[]>>(
  'kafkajs/src/producer/groupMessagesPerPartition.js',
);

describe('groupMessagesPerPartition', () => {
  it("answers exactly what kafkajs's quadratic version answers, key order included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.string(), partition: fc.option(fc.integer({ min: 0, max: 11 })) })),
        fc.integer({ min: 0, max: 12 }),
        (messages, partitions) => {
          const input = {
            topic: 't',
            partitionMetadata: Array.from({ length: partitions }, (_, id) => ({ partitionId: id })),
            messages,
            // Like kafkajs's default: the message's own partition, else one derived from its key.
            partitioner: ({ message }: { message: (typeof messages)[number] }) =>
              message.partition ?? message.key.length % Math.max(1, partitions),
          };
          const ours = groupMessagesPerPartition(input);
          const theirs = original(input);
          expect(ours).toEqual(theirs);
          expect(Object.keys(ours)).toEqual(Object.keys(theirs));
        },
      ),
    );
  });

  it('groups 50,000 messages bound for one partition, in order', () => {
    const messages = Array.from({ length: 50_000 }, (_, index) => ({ index }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}],
      messages,
      partitioner: () => 0,
    });
    expect(grouped[0]).toHaveLength(50_000);
    expect(grouped[0]?.[49_999]).toBe(messages[49_999]);
  });
});
