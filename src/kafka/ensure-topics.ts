import type { Admin } from 'kafkajs';
import type { Logger } from '../shared/logger.js';
import { pipelineTopics, planTopics, type TopicAction, type TopicSpec } from './topics.js';

async function partitionCounts(admin: Admin, names: readonly string[]): Promise<Map<string, number>> {
  const listed = new Set(await admin.listTopics());
  const present = names.filter((name) => listed.has(name));
  if (present.length === 0) return new Map();
  const { topics } = await admin.fetchTopicMetadata({ topics: present });
  return new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
}

/**
 * Creates the missing topics and reports the ones that exist. Idempotent and safe when several
 * stage instances start at once: kafkajs answers `false` instead of failing on TOPIC_ALREADY_EXISTS.
 * A partition-count mismatch is logged, not "fixed" (see planTopics).
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  logger: Logger,
): Promise<readonly TopicAction[]> {
  const actions = planTopics(
    specs,
    await partitionCounts(
      admin,
      specs.map((spec) => spec.name),
    ),
  );
  const toCreate = actions.filter((action) => action.kind === 'create').map((action) => action.spec);
  if (toCreate.length > 0) {
    const request = {
      waitForLeaders: true,
      topics: toCreate.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
      })),
    };
    // kafkajs's waitForLeaders retries LEADER_NOT_AVAILABLE only: a broker that has not learned of
    // a topic created a moment ago (by this request, or by another stage at the same time) answers
    // UNKNOWN_TOPIC_OR_PARTITION, which it does not retry. Asking again is safe (idempotent).
    for (let attempt = 1; ; attempt += 1) {
      try {
        await admin.createTopics(request);
        break;
      } catch (error) {
        if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    logger.info({ topics: toCreate.map((spec) => spec.name) }, 'created topics');
  }
  for (const action of actions) {
    if (action.kind === 'partition-mismatch') {
      logger.warn(
        { topic: action.spec.name, expected: action.spec.partitions, actual: action.actual },
        'topic exists with a different partition count; keeping it as it is',
      );
    }
  }
  return actions;
}

/**
 * What every stage calls at start-up: the pipeline topics (SPEC §1) exist with the configured
 * partitions, whichever instance of whichever stage comes first.
 */
export async function ensurePipelineTopics(
  admin: Admin,
  settings: Parameters<typeof pipelineTopics>[0],
  logger: Logger,
): Promise<readonly TopicAction[]> {
  return ensureTopics(admin, pipelineTopics(settings), logger);
}
