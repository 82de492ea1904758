import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../src/kafka/client.js';
import { ensurePipelineTopics } from '../src/kafka/ensure-topics.js';
import { createLogger } from '../src/shared/logger.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/stack/throwaway-broker.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { testKafka } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';
import { runToEnd, supervise } from './support/supervise.js';

/**
 * The smaller cluster test of `npm test` (issue 23, item 6): three KRaft nodes, topics with
 * replication factor 3 and min.insync.replicas 2 (derived: KAPPA_TOPIC_REPLICATION=auto), and the
 * leader of a stages partition killed with SIGKILL while enrichment and the aggregator run.
 * Exactly once must hold: every id once in events and in events_stages (read_committed), and the
 * tables equal the reference model over the events log.
 */
let cluster: ThrowawayCluster | undefined;
beforeAll(async () => {
  const { cacheDir, version } = inject('kafkaRestart');
  cluster = await startThrowawayCluster({ cacheDir, version, nodes: 3, heap: '384m' });
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const { context, pipeline, referenceFromEvents, expectTablesToReach } = useAggregateHarness(
  'cluster',
  undefined,
  () => cluster?.brokers ?? [],
);

/** The node leading `partition` of `topic` now. */
async function leaderOf(topic: string, partition: number): Promise<number> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = topics[0]?.partitions.find((each) => each.partitionId === partition)?.leader;
    if (leader === undefined || leader < 0) throw new Error(`${topic}[${partition}] has no leader`);
    return leader;
  } finally {
    await admin.disconnect();
  }
}

/** The replicas of every partition of `topic` and its min.insync.replicas. */
async function replicationOf(topic: string): Promise<{ replicas: number[]; minInsync: string | undefined }> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const config = await admin.describeConfigs({
      resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }],
      includeSynonyms: false,
    });
    return {
      replicas: topics[0]?.partitions.map((partition) => partition.replicas.length) ?? [],
      minInsync: config.resources[0]?.configEntries[0]?.configValue,
    };
  } finally {
    await admin.disconnect();
  }
}

describe('a three-node cluster', () => {
  it(
    'keeps exactly once when the leader of a stages partition is killed while enrichment and the aggregator run',
    { timeout: 600_000 },
    async () => {
      const env: Record<string, string> = { ...pipeline('kill-leader'), KAPPA_LOG_LEVEL: 'info' };
      const events: string[] = [];
      const enrich = supervise(['enrich'], env, 'enrich', events);
      const aggregate = supervise(
        ['aggregate', '--version', 'v1', '--dims', 'user,dept,age'],
        env,
        'aggregate',
        events,
      );
      try {
        const stagesTopic = env['KAPPA_TOPIC_STAGES'] ?? '';
        const generating = runToEnd(['ingest', '--count', '4000', '--rate', '400'], env, 'ingest').done;
        // Wait until records flow through the stages topic, then kill its partition 0's leader.
        // (The topic appears once the enrichment has started: a read before fails with UNKNOWN_TOPIC.)
        for (let attempt = 0; ; attempt += 1) {
          const flowing = await readAtLeast(testKafka(context), stagesTopic, 200, 0, 180_000).then(
            () => true,
            (error: unknown) => {
              if (attempt > 120) throw error;
              return false;
            },
          );
          if (flowing) break;
          await sleep(1_000);
        }
        const leader = await leaderOf(stagesTopic, 0);
        const pid = await cluster?.pidOf(leader);
        expect(pid).toBeDefined();
        process.kill(pid ?? 0, 'SIGKILL');
        events.push(`kill -9 node ${leader} (pid ${pid ?? '?'}), leader of ${stagesTopic}[0]`);
        expect(await generating, events.join('\n')).toBe(0);
        // Bring the node back (as an operator would) before reading: the test's own clients then
        // never meet a stale leader that refuses connections.
        await cluster?.restartStopped();
        events.push(`node ${leader} restarted`);

        expect(await replicationOf(stagesTopic)).toEqual({ replicas: [3, 3, 3], minInsync: '2' });
        expect(await replicationOf(env['KAPPA_TOPIC_EVENTS'] ?? '')).toEqual({ replicas: [3, 3, 3], minInsync: '2' });

        // At least every acknowledged event (a new leader's high watermark may trail for a moment),
        // then 3 s more to see duplicates.
        const raw = await readAtLeast(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '', 4_000, 3_000, 120_000);
        const ids = raw.map((message) => Number(message.key)).sort((a, b) => a - b);
        // Nothing the generator acknowledged is lost: every id 0..3999 is in the log.
        expect([...new Set(ids)], events.join('\n')).toEqual(Array.from({ length: 4_000 }, (_, id) => id));
        // Nothing is written twice either (issue 23: a leader dying mid-send once made kafkajs re-send
        // another leader's partitions with new sequence numbers; the generator now sends per partition).
        expect(ids.length - 4_000, events.join('\n')).toBe(0);

        const stages = await readAtLeast(testKafka(context), stagesTopic, ids.length, 3_000, 240_000);
        // events_stages: exactly one record per events record (read_committed).
        const registry = new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' });
        const stageIds = (
          await Promise.all(
            stages.map(async (message) => ((await registry.decode(message.value)) as { id: number }).id),
          )
        ).sort((a, b) => a - b);
        expect(stageIds, events.join('\n')).toEqual(ids);

        await expectTablesToReach('v1', await referenceFromEvents(env['KAPPA_TOPIC_EVENTS'] ?? ''), 240_000);
      } finally {
        await Promise.all([enrich.stop(), aggregate.stop()]);
      }
    },
  );

  it(
    'lets a stage start while another has just created the topics, whichever node it asks (no UNKNOWN_TOPIC_OR_PARTITION)',
    {
      timeout: 240_000,
    },
    async () => {
      // The whole-pipeline bench on three nodes: `kappa ingest` started while enrichment and the
      // aggregator created the pipeline topics, listed them from one node and asked another for
      // their metadata before that node knew them; the generator died at start-up.
      const nodes = cluster?.brokers ?? [];
      const logger = createLogger('warn', 'cluster-topics');
      const creator = createKafka({ brokers: [nodes[0] ?? ''], logger }).admin();
      const starters = nodes.map((node) => createKafka({ brokers: [node], logger }).admin());
      await creator.connect();
      await Promise.all(starters.map((admin) => admin.connect()));
      try {
        for (let round = 0; round < 15; round += 1) {
          const settings = {
            topicEvents: context.topic(`race-${round}-events`),
            topicStages: context.topic(`race-${round}-stages`),
            topicPartitions: 3,
            topicReplicationFactor: 'auto' as const,
          };
          const created = ensurePipelineTopics(creator, settings, logger);
          await sleep(round * 3);
          await Promise.all([created, ...starters.map((admin) => ensurePipelineTopics(admin, settings, logger))]);
        }
      } finally {
        await Promise.all([creator, ...starters].map((admin) => admin.disconnect()));
      }
    },
  );
});
