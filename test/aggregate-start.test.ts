import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { runAggregate } from '../src/aggregates/run.js';
import { jobNames } from '../src/aggregates/job-names.js';
import { createKafka } from '../src/kafka/client.js';
import type { Kafka } from '../src/kafka/kafkajs.js';
import { endOffsets } from '../src/kafka/offsets.js';
import { versionSettings } from '../src/model/version-settings.js';
import { useAggregateHarness } from './support/aggregate-harness.js';

const { context, pipeline, produceStages, referenceFromLogFrom, expectTablesToReach } =
  useAggregateHarness('aggregate-start');

/** What every runAggregate of this file shares: the harness's broker, registry, MariaDB and schemas. */
function jobOf(kafka: Kafka, env: Record<string, string>) {
  return {
    kafka,
    registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
    mysqlUrl: context.mysqlUrl,
    topicPartitions: 3,
    topicReplicationFactor: 1,
    schemasDir: fileURLToPath(new URL('../schemas', import.meta.url)),
  } as const;
}

/** Window 10 s, as the harness's reference model has it. */
const settingsOf = (topic: string, watermarkDelay: number) =>
  versionSettings({ window: 10_000, slide: 10_000, watermarkDelay, timeZone: 'Asia/Seoul', topicStages: topic });

describe('kappa aggregate, starting', () => {
  it('a start the sink refuses disconnects the producer it connected meanwhile', async () => {
    const env = pipeline('refused');
    const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
    const settings = (watermarkDelay: number) => settingsOf(topic, watermarkDelay);
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
        ...jobOf(kafka, env),
        logger: context.logger,
        version: 'v1',
        settings: settings(60_000),
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'KAPPA_VERSION_SETTINGS_MISMATCH' });
    expect(told).toEqual(['connect', 'disconnect']);
  }, 60_000);

  it('skips nothing when the group’s offsets are ahead of the progress and kafkajs fetches before the seek', async () => {
    // The chaos suite's failure (seed 1, 2026-12-06): after a MariaDB outage the group's offsets (a
    // hint, committed every 5 s) were ahead of the progress in MySQL; kafkajs's first fetch started
    // there while the aggregator still read its progress to seek back, and that batch was taken for
    // a log starting beyond the progress (retention): the records between were never counted.
    const env = pipeline('ahead');
    const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
    const settings = settingsOf(topic, 15_000);
    await produceStages(topic, 6_000, 7);
    const kafka = createKafka({ brokers: [...context.brokers], logger: context.logger });
    const admin = kafka.admin();
    await admin.connect();
    const ends = await endOffsets(admin, topic);
    // Progress at offset 10 of every partition in MySQL; the group's offsets at 1,500.
    const sink = await MySqlSink.open(context.mysqlUrl, 'v7', topic);
    await sink.prepare({ version: 'v7', settings });
    for (const partition of ends.keys()) {
      const from = await sink.load(partition);
      await sink.commit({
        partition,
        expected: { nextOffset: from.nextOffset, seq: from.seq },
        nextOffset: 10n,
        rows: [],
        snapshot: { maxEventTime: null, lateEvents: 0, lateWindows: 0, open: [] },
        lateEvents: 0,
        lateWindows: 0,
        badRecords: 0,
        watermark: null,
      });
    }
    await sink.close();
    await admin.setOffsets({
      groupId: jobNames('v7').consumerGroup(topic),
      topic,
      partitions: [...ends.keys()].map((partition) => ({ partition, offset: '1500' })),
    });
    await admin.disconnect();
    // What the aggregator logs: a batch fetched before the seek reaching it shows as a log that
    // starts beyond the progress (it had, before the fix, in every run of this test).
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(line) });
    const controller = new AbortController();
    const run = runAggregate({
      ...jobOf(kafka, env),
      logger,
      version: 'v7',
      settings,
      signal: controller.signal,
      // Reading the progress takes a second (a slow MySQL): kafkajs's first fetch, from the
      // group's offsets, arrives long before the seek back to the progress.
      onSink: (opened) => {
        const load = opened.load.bind(opened);
        opened.load = async (partition) => {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return load(partition);
        };
      },
    });
    try {
      // Every record from offset 10 on, as if the log started there: nothing between 10 and 1,500 skipped.
      await expectTablesToReach(
        'v7',
        await referenceFromLogFrom(topic, new Map([...ends.keys()].map((p) => [p, 10n]))),
      );
    } finally {
      controller.abort();
      await run;
    }
    expect(logged.filter((line) => line.includes('the log starts beyond the progress'))).toEqual([]);
    expect(logged.filter((line) => line.includes('partitions assigned'))).not.toEqual([]);
  }, 90_000);
});
