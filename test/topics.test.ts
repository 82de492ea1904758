import { ConfigResourceTypes } from '../src/kafka/kafkajs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePipelineTopics, ensureTopics } from '../src/kafka/ensure-topics.js';
import { logTopic, pipelineTopics } from '../src/kafka/topics.js';
import { testKafka, useTestContext } from './support/context.js';

const context = useTestContext('topics');

describe('ensureTopics against the real broker', () => {
  const admin = testKafka(context).admin();
  const settings = {
    topicEvents: context.topic('events'),
    topicStages: context.topic('events_stages'),
    topicPartitions: 3,
    topicReplicationFactor: 1,
  };
  const specs = pipelineTopics(settings);

  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('creates the pipeline topics with the configured partitions and infinite retention', async () => {
    const { actions } = await ensurePipelineTopics(admin, settings, context.logger);
    expect(actions.map((action) => action.kind)).toEqual(['create', 'create', 'create']);
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
    expect(topics.map((topic) => [topic.name, topic.partitions.length]).sort()).toEqual(
      specs.map((spec) => [spec.name, 3]).sort(),
    );
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: settings.topicEvents,
          configNames: ['retention.ms', 'retention.bytes'],
        },
      ],
    });
    const entries = Object.fromEntries(
      described.resources[0]?.configEntries.map((entry) => [entry.configName, entry.configValue]) ?? [],
    );
    expect(entries).toEqual({ 'retention.ms': '-1', 'retention.bytes': '-1' });
  });

  it('is idempotent: a second call creates nothing', async () => {
    const actions = await ensureTopics(admin, specs, context.logger);
    expect(actions.map((action) => action.kind)).toEqual(['exists', 'exists', 'exists']);
  });

  it("gives a new stages topic the existing events topic's partition count, and reports a mismatch", async () => {
    const events = context.topic('five');
    await ensureTopics(admin, [logTopic(events, { topicPartitions: 5, topicReplicationFactor: 1 })], context.logger);
    const derived = { ...settings, topicEvents: events, topicStages: context.topic('five_stages') };
    const first = await ensurePipelineTopics(admin, derived, context.logger);
    expect([first.eventsPartitions, first.stagesPartitions, first.deadLetterPartitions]).toEqual([5, 5, 5]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [derived.topicStages, `${events}.dlq`] });
    expect(topics.map((topic) => topic.partitions.length)).toEqual([5, 5]);

    const stages = context.topic('two_stages');
    await ensureTopics(admin, [logTopic(stages, { topicPartitions: 2, topicReplicationFactor: 1 })], context.logger);
    const mismatch = await ensurePipelineTopics(admin, { ...derived, topicStages: stages }, context.logger);
    expect([mismatch.eventsPartitions, mismatch.stagesPartitions]).toEqual([5, 2]);

    // A dead-letter topic that exists with its own count keeps it; enrichment spreads over what is there.
    const other = context.topic('seven');
    await ensureTopics(admin, [logTopic(other, { topicPartitions: 3, topicReplicationFactor: 1 })], context.logger);
    await ensureTopics(
      admin,
      [logTopic(`${other}.dlq`, { topicPartitions: 1, topicReplicationFactor: 1 })],
      context.logger,
    );
    const existing = await ensurePipelineTopics(
      admin,
      { ...settings, topicEvents: other, topicStages: context.topic('seven_stages') },
      context.logger,
    );
    expect([existing.eventsPartitions, existing.stagesPartitions, existing.deadLetterPartitions]).toEqual([3, 3, 1]);
  });

  it('is safe when several stage instances start at once', async () => {
    const concurrent = pipelineTopics({
      ...settings,
      topicEvents: context.topic('race'),
      topicStages: context.topic('race_stages'),
    });
    const admins = [testKafka(context).admin(), testKafka(context).admin(), testKafka(context).admin()];
    await Promise.all(admins.map((other) => other.connect()));
    try {
      const results = await Promise.all(admins.map((other) => ensureTopics(other, concurrent, context.logger)));
      expect(results.flat().every((action) => action.kind === 'create' || action.kind === 'exists')).toBe(true);
      const { topics } = await admin.fetchTopicMetadata({ topics: concurrent.map((spec) => spec.name) });
      expect(topics.every((topic) => topic.partitions.length === 3)).toBe(true);
    } finally {
      await Promise.all(admins.map((other) => other.disconnect()));
    }
  });

  it('reports, and leaves alone, a topic that exists with another partition count', async () => {
    const name = context.topic('narrow');
    await ensureTopics(admin, [logTopic(name, { topicPartitions: 1, topicReplicationFactor: 1 })], context.logger);
    const [action] = await ensureTopics(
      admin,
      [{ name, partitions: 3, replicationFactor: 1, config: {} }],
      context.logger,
    );
    expect(action).toMatchObject({ kind: 'partition-mismatch', actual: 1 });
    const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
    expect(topics[0]?.partitions).toHaveLength(1);
  });
});
