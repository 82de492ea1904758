import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { runAggregate } from '../src/aggregates/run.js';
import { createKafka } from '../src/kafka/client.js';
import { versionSettings } from '../src/model/version-settings.js';
import { useAggregateHarness } from './support/aggregate-harness.js';

const { context, pipeline } = useAggregateHarness('aggregate-start');

describe('kappa aggregate, starting', () => {
  it('a start the sink refuses disconnects the producer it connected meanwhile', async () => {
    const env = pipeline('refused');
    const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
    const settings = (watermarkDelay: number) =>
      versionSettings({ window: 10_000, slide: 10_000, watermarkDelay, timeZone: 'Asia/Seoul', topicStages: topic });
    // v1 is recorded with a 15 s watermark ...
    const sink = await MySqlSink.open(context.mysqlUrl, 'v1', topic);
    await sink.prepare({ version: 'v1', settings: settings(15_000) });
    await sink.close();
    // ... and started with 60 s: refused while its producer connects beside the tables' check.
    const kafka = createKafka({ brokers: [...context.brokers], logger: context.logger });
    const told: string[] = [];
    const producerOf = kafka.producer.bind(kafka);
    kafka.producer = (config) => {
      const producer = producerOf(config);
      producer.on(producer.events.CONNECT, () => told.push('connect'));
      producer.on(producer.events.DISCONNECT, () => told.push('disconnect'));
      return producer;
    };
    await expect(
      runAggregate({
        kafka,
        registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
        mysqlUrl: context.mysqlUrl,
        topicPartitions: 3,
        topicReplicationFactor: 1,
        schemasDir: fileURLToPath(new URL('../schemas', import.meta.url)),
        logger: context.logger,
        version: 'v1',
        settings: settings(60_000),
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'KAPPA_VERSION_SETTINGS_MISMATCH' });
    expect(told).toEqual(['connect', 'disconnect']);
  }, 60_000);
});
