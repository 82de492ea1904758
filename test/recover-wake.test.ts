import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../src/kafka/client.js';
import { versionSettings } from '../src/model/version-settings.js';
import { runRecover } from '../src/recovery/recover.js';
import { useAggregateHarness } from './support/aggregate-harness.js';

const { context, pipeline, produceStages } = useAggregateHarness('recover-wake');

describe('kappa recover --until-caught-up', () => {
  it('returns once the commit that catches it up lands, not at its next lag check', async () => {
    const topic = context.topic('stages');
    const events = await produceStages(topic, 6_000, 7);
    const result = await runRecover({
      kafka: createKafka({ brokers: [...context.brokers], logger: context.logger }),
      registryUrl: pipeline('wake')['KAPPA_REGISTRY_URL'] ?? '',
      mysqlUrl: context.mysqlUrl,
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: fileURLToPath(new URL('../schemas', import.meta.url)),
      logger: context.logger,
      version: 'v2',
      settings: versionSettings({
        window: 10_000,
        slide: 10_000,
        watermarkDelay: 15_000,
        timeZone: 'Asia/Seoul',
        topicStages: topic,
      }),
      signal: new AbortController().signal,
      untilCaughtUp: true,
      // Far beyond the test's time-out (60 s): only a commit can end the wait.
      checkEveryMs: 600_000,
    });
    expect(result.caughtUp).toBe(true);
    expect(result.metrics.in).toBe(events);
  }, 60_000);
});
