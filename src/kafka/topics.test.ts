import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pipelineTopics, planTopics, stagesPartitioningProblem, topicNames, type TopicSpec } from './topics.js';

const settings = { topicEvents: 'events', topicStages: 'events_stages', topicPartitions: 3, topicReplicationFactor: 1 };

describe('pipelineTopics', () => {
  it('derives every topic from the two configured log topics', () => {
    expect(topicNames(settings)).toEqual({ events: 'events', stages: 'events_stages', deadLetter: 'events.dlq' });
    expect(pipelineTopics(settings).map((topic) => topic.name)).toEqual(['events', 'events_stages', 'events.dlq']);
  });

  it('creates every topic with the configured partitions and keeps the log forever', () => {
    for (const topic of pipelineTopics({ ...settings, topicPartitions: 6, topicReplicationFactor: 3 })) {
      expect(topic.partitions).toBe(6);
      expect(topic.replicationFactor).toBe(3);
      expect(topic.config['retention.ms']).toBe('-1');
      expect(topic.config['retention.bytes']).toBe('-1');
    }
  });
});

describe('planTopics', () => {
  const spec = (name: string, partitions: number): TopicSpec => ({
    name,
    partitions,
    replicationFactor: 1,
    config: {},
  });

  it('creates what is missing, keeps what matches, reports a partition mismatch', () => {
    const actions = planTopics(
      [spec('a', 3), spec('b', 3), spec('c', 3)],
      new Map([
        ['b', 3],
        ['c', 6],
        ['other', 1],
      ]),
    );
    expect(actions.map((action) => [action.spec.name, action.kind])).toEqual([
      ['a', 'create'],
      ['b', 'exists'],
      ['c', 'partition-mismatch'],
    ]);
    expect(actions[2]).toMatchObject({ actual: 6 });
  });

  it('decides each topic by its own presence and partition count only', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ name: fc.string({ minLength: 1, maxLength: 4 }), partitions: fc.integer({ min: 1, max: 4 }) }),
          { selector: (topic) => topic.name },
        ),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 4 })),
        (wanted, existingRecord) => {
          const existing = new Map(Object.entries(existingRecord));
          const actions = planTopics(
            wanted.map((topic) => spec(topic.name, topic.partitions)),
            existing,
          );
          expect(actions).toHaveLength(wanted.length);
          actions.forEach((action, index) => {
            const topic = wanted[index];
            expect(action.spec.name).toBe(topic?.name);
            const actual = existing.get(action.spec.name);
            const expected =
              actual === undefined ? 'create' : actual === topic?.partitions ? 'exists' : 'partition-mismatch';
            expect(action.kind).toBe(expected);
          });
        },
      ),
    );
  });

  it('plans nothing to create once everything exists (idempotence)', () => {
    const specs = [spec('events', 3), spec('events_stages', 3)];
    const afterCreate = new Map(specs.map((topic) => [topic.name, topic.partitions]));
    expect(planTopics(specs, afterCreate).every((action) => action.kind === 'exists')).toBe(true);
  });
});

describe('partition-preserving enrichment', () => {
  const settings = {
    topicEvents: 'events',
    topicStages: 'events_stages',
    topicPartitions: 3,
    topicReplicationFactor: 1,
  };

  it("derives the stages and dead-letter topics from the events topic's actual partition count", () => {
    expect(pipelineTopics(settings, 7).map((topic) => [topic.name, topic.partitions])).toEqual([
      ['events', 3],
      ['events_stages', 7],
      ['events.dlq', 7],
    ]);
  });

  it('refuses a stages topic with another partition count, naming both counts and the way out', () => {
    expect(stagesPartitioningProblem({ events: 'events', stages: 'events_stages' }, 3, 3)).toBeUndefined();
    const problem = stagesPartitioningProblem({ events: 'events', stages: 'events_stages' }, 6, 3);
    expect(problem).toContain('events_stages has 3 partitions but events has 6');
    expect(problem).toContain('kappa recover --from events --stages-topic events_stages_p6');
  });
});
