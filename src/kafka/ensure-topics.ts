import type { Admin } from 'kafkajs';
import { KappaError } from '../shared/errors.js';
import { retry } from '../shared/retry.js';
import type { Logger } from '../shared/logger.js';
import { resolveReplication, underReplicationProblem } from './replication.js';
import { partitionsAfter, pipelineTopics, planTopics, type TopicAction, type TopicSpec } from './topics.js';

interface ExistingTopic {
  readonly partitions: number;
  /** The fewest replicas any of its partitions has. */
  readonly replicas: number;
}

type TopicMetadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>['topics'][number];

/**
 * The topics' metadata once every one of them is `ready`, asked again until then (60 s): a topic
 * just created — here or by another stage — takes a moment to reach every node, which meanwhile
 * answers UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE (kafkajs marks both retriable) or
 * lists it without partitions or leaders.
 */
async function settledMetadata(
  admin: Admin,
  topics: readonly string[],
  ready: (topic: TopicMetadata) => boolean,
  notYet: string,
): Promise<readonly TopicMetadata[]> {
  const notReady = new KappaError('KAPPA_TOPIC_NOT_READY', `topics ${topics.join(', ')} have no ${notYet} yet`, {
    retriable: true,
  });
  return retry(
    async () => {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (!described.every(ready)) throw notReady;
      return described;
    },
    { deadlineMs: 60_000, initialDelayMs: 100, maxDelayMs: 1_000 },
  );
}

const hasPartitions = (topic: TopicMetadata) => topic.partitions.length > 0;

async function existingTopics(admin: Admin, names: readonly string[]): Promise<Map<string, ExistingTopic>> {
  const listed = new Set(await admin.listTopics());
  const present = names.filter((name) => listed.has(name));
  if (present.length === 0) return new Map();
  // Listed by one node is not yet known to another (seen on three nodes: a generator started
  // beside the stages that created the topics died on UNKNOWN_TOPIC_OR_PARTITION).
  const topics = await settledMetadata(admin, present, hasPartitions, 'metadata');
  return new Map(
    topics.map((topic) => [
      topic.name,
      {
        partitions: topic.partitions.length,
        replicas: Math.min(...topic.partitions.map((partition) => partition.replicas.length)),
      },
    ]),
  );
}

export interface EnsureTopicsPolicy {
  /** An existing topic with fewer replicas than the cluster allows: log a warning, or refuse. */
  readonly replicationCheck?: 'warn' | 'refuse';
}

/** Waits until every partition of the topics has a leader (new topics take a moment). */
async function waitForLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  await settledMetadata(
    admin,
    topics,
    (topic) => hasPartitions(topic) && topic.partitions.every((partition) => partition.leader >= 0),
    'leaders',
  );
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
  policy: EnsureTopicsPolicy = {},
): Promise<readonly TopicAction[]> {
  const existing = await existingTopics(
    admin,
    specs.map((spec) => spec.name),
  );
  const actions = planTopics(specs, new Map([...existing].map(([name, topic]) => [name, topic.partitions])));
  // `auto` replication follows the brokers the cluster has now (resolveReplication).
  const brokers = (await admin.describeCluster()).brokers.length;
  const replication = (spec: TopicSpec) =>
    resolveReplication(spec.replicationFactor, spec.minInsync ?? 'auto', brokers);
  for (const spec of specs) {
    const topic = existing.get(spec.name);
    const problem =
      topic === undefined ? undefined : underReplicationProblem(spec.name, topic.replicas, replication(spec).factor);
    if (problem === undefined) continue;
    if (policy.replicationCheck === 'refuse') throw new KappaError('KAPPA_TOPIC_UNDER_REPLICATED', problem);
    logger.warn({ topic: spec.name, replicas: topic?.replicas, brokers }, problem);
  }
  const toCreate = actions.filter((action) => action.kind === 'create').map((action) => action.spec);
  if (toCreate.length > 0) {
    await admin.createTopics({
      // kafkajs's own wait fails at once with UNKNOWN_TOPIC_OR_PARTITION when the metadata of a new
      // topic has not reached the broker it asks yet (seen on a busy single broker): wait below.
      waitForLeaders: false,
      topics: toCreate.map((spec) => {
        const { factor, minInsync } = replication(spec);
        return {
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: factor,
          configEntries: Object.entries({ ...spec.config, 'min.insync.replicas': String(minInsync) }).map(
            ([name, value]) => ({ name, value }),
          ),
        };
      }),
    });
    await waitForLeaders(
      admin,
      toCreate.map((spec) => spec.name),
    );
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

/** The pipeline topics after ensurePipelineTopics, with the partition counts they actually have. */
export interface PipelineTopics {
  readonly actions: readonly TopicAction[];
  readonly eventsPartitions: number;
  readonly stagesPartitions: number;
  /** The dead-letter topic's count (an existing topic keeps its own). */
  readonly deadLetterPartitions: number;
}

/**
 * What every stage calls at start-up: the pipeline topics (SPEC §1) exist, whichever instance of
 * whichever stage comes first — the events topic with the configured partitions, the stages and
 * dead-letter topics with as many as the events topic actually has.
 */
export async function ensurePipelineTopics(
  admin: Admin,
  settings: Parameters<typeof pipelineTopics>[0],
  logger: Logger,
): Promise<PipelineTopics> {
  // The events topic first: the others follow its actual partition count.
  const policy = { replicationCheck: settings.topicReplicationCheck ?? 'warn' } as const;
  const [events] = await ensureTopics(admin, pipelineTopics(settings).slice(0, 1), logger, policy);
  const eventsPartitions = events === undefined ? settings.topicPartitions : partitionsAfter(events);
  const derived = await ensureTopics(admin, pipelineTopics(settings, eventsPartitions).slice(1), logger, policy);
  const [stages, deadLetter] = derived;
  return {
    actions: [...(events === undefined ? [] : [events]), ...derived],
    eventsPartitions,
    stagesPartitions: stages === undefined ? eventsPartitions : partitionsAfter(stages),
    deadLetterPartitions: deadLetter === undefined ? eventsPartitions : partitionsAfter(deadLetter),
  };
}
