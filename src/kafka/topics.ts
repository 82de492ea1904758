import type { Config } from '../config/settings.js';
import type { Replication } from './replication.js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** `auto`: derived from the cluster's broker count when the topic is created (replication.ts). */
  readonly replicationFactor: Replication;
  /** `min.insync.replicas` set on the topic at creation; `auto` when absent. */
  readonly minInsync?: Replication;
  /** Topic-level configs applied at creation (Kafka's names, string values). */
  readonly config: Readonly<Record<string, string>>;
}

/**
 * In a Kappa architecture the log *is* the database: the event topics keep everything forever,
 * or a later replay would silently rebuild tables from a truncated history.
 */
const KEEP_FOREVER = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' } as const;

export type TopicSettings = Pick<Config, 'topicEvents' | 'topicStages' | 'topicPartitions' | 'topicReplicationFactor'> &
  Partial<Pick<Config, 'topicMinInsync' | 'topicReplicationCheck'>>;

/** Names of the topics derived from the two configured log topics (dead letters, late events). */
export function topicNames(settings: Pick<Config, 'topicEvents' | 'topicStages'>) {
  return {
    events: settings.topicEvents,
    stages: settings.topicStages,
    deadLetter: `${settings.topicEvents}.dlq`,
  } as const;
}

/**
 * The topics every stage expects to exist. The events topic gets the configured partition count;
 * the stages and dead-letter topics get the events topic's (`eventsPartitions`, its actual count
 * when it exists): enrichment writes each record to the partition number it was read from.
 */
export function pipelineTopics(
  settings: TopicSettings,
  eventsPartitions = settings.topicPartitions,
): readonly TopicSpec[] {
  const names = topicNames(settings);
  const derived = { ...settings, topicPartitions: eventsPartitions };
  return [logTopic(names.events, settings), logTopic(names.stages, derived), logTopic(names.deadLetter, derived)];
}

/** How many partitions a topic has (or will have) after `actions` ran: the existing count wins. */
export function partitionsAfter(action: TopicAction): number {
  return action.kind === 'partition-mismatch' ? action.actual : action.spec.partitions;
}

/**
 * Partition-preserving enrichment (SPEC §1.2) needs a stages topic with exactly the events topic's
 * partitions: the error to refuse with when an existing one has another count, or undefined.
 */
export function stagesPartitioningProblem(
  names: { readonly events: string; readonly stages: string },
  eventsPartitions: number,
  stagesPartitions: number,
): string | undefined {
  if (eventsPartitions === stagesPartitions) return undefined;
  return (
    `${names.stages} has ${stagesPartitions} partitions but ${names.events} has ${eventsPartitions}: enrichment writes ` +
    `each event to the stages partition of the same number, so the counts must match. Enrich into a new stages ` +
    `topic with a full-chain replay instead, e.g. kappa recover --from ${names.events} --stages-topic ` +
    `${names.stages}_p${eventsPartitions} --to <new version>`
  );
}

/** A log topic of the pipeline: the configured partitions and replication, kept forever. */
export function logTopic(
  name: string,
  settings: Pick<TopicSettings, 'topicPartitions' | 'topicReplicationFactor' | 'topicMinInsync'>,
): TopicSpec {
  return {
    name,
    partitions: settings.topicPartitions,
    replicationFactor: settings.topicReplicationFactor,
    minInsync: settings.topicMinInsync ?? 'auto',
    config: KEEP_FOREVER,
  };
}

export type TopicAction =
  | { readonly kind: 'create'; readonly spec: TopicSpec }
  | { readonly kind: 'exists'; readonly spec: TopicSpec }
  | { readonly kind: 'partition-mismatch'; readonly spec: TopicSpec; readonly actual: number };

/**
 * Decides, without I/O, what ensureTopics must do given the partition counts that exist.
 * An existing topic is never altered: adding partitions moves keys to other partitions, which
 * would break per-key order and the per-partition watermarks — that is an operator's decision.
 */
export function planTopics(specs: readonly TopicSpec[], existing: ReadonlyMap<string, number>): readonly TopicAction[] {
  return specs.map((spec) => {
    const actual = existing.get(spec.name);
    if (actual === undefined) return { kind: 'create', spec };
    if (actual !== spec.partitions) return { kind: 'partition-mismatch', spec, actual };
    return { kind: 'exists', spec };
  });
}

/** The registry subject of a topic's values (Confluent's TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * The enrichment stage's consumer group: `kappa-enrich` for the default output topic, one group
 * per output topic otherwise (a full-chain replay into events_stages_v2 is a separate consumer).
 */
export function enrichGroup(topicStages: string): string {
  return topicStages === 'events_stages' ? 'kappa-enrich' : `kappa-enrich.${topicStages}`;
}

/**
 * One transactional id per input partition (and group). kafkajs 2.2.4 sends transactional offsets
 * without consumer-group metadata (no KIP-447 fencing), so the partition's new owner fences the
 * old one by initialising a producer with the same transactional id.
 */
export function enrichTransactionalId(group: string, topic: string, partition: number): string {
  return `${group}.${topic}.${partition}`;
}
