import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../src/api/server.js';
import { testKafka, useTestContext } from './support/context.js';
import { readTopic } from './support/read-topic.js';
import { useRegistryAndProcesses } from './support/registry.js';

const context = useTestContext('http-ingest');
const { registryUrl } = useRegistryAndProcesses(context);

describe('POST /api/events against the real broker and MariaDB', { timeout: 120_000 }, () => {
  const events = context.topic('events');
  let api: RunningApi;

  beforeAll(async () => {
    // An events topic that takes at most 20,000 bytes per message (the broker's default is ~1 MiB,
    // which the API's 1 MiB body limit hardly reaches; the check reads the topic's own limit).
    const admin = testKafka(context).admin();
    await admin.connect();
    await admin
      .createTopics({
        topics: [
          {
            topic: events,
            numPartitions: 3,
            replicationFactor: 1,
            configEntries: [{ name: 'max.message.bytes', value: '20000' }],
          },
        ],
        waitForLeaders: true,
      })
      .finally(() => admin.disconnect());
    api = await startApi({
      brokers: context.brokers,
      registryUrl: registryUrl(),
      mysqlUrl: context.mysqlUrl,
      topicEvents: events,
      topicStages: context.topic('stages'),
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: new URL('../schemas', import.meta.url).pathname,
      timeZone: 'UTC',
      host: '127.0.0.1',
      port: 0,
      token: 'test-token-0123456789abcdef',
      logger: context.logger,
    });
  }, 120_000);

  afterAll(() => api.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    api.app.inject({ method: 'POST', url: '/api/events', payload: body as object, headers });

  it('answers an event larger than the broker takes with 413 before any id is taken', async () => {
    const before = await post({ events: [{ hello: 'small' }] });
    expect(before.statusCode).toBe(202);
    const huge = await post({ events: [{ hello: 'x'.repeat(30_000) }] });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ code: 'KAPPA_PAYLOAD_TOO_LARGE', field: 'events[0]' });
    // A batch whose events fit one by one but not together in one partition's record batch.
    const many = await post({ events: Array.from({ length: 3 }, () => ({ hello: 'y'.repeat(9_000) })) });
    expect(many.statusCode).toBe(413);
    expect(many.json()).toMatchObject({ code: 'KAPPA_PAYLOAD_TOO_LARGE', field: 'events' });
    const after = await post({ events: [{ hello: 'small' }] });
    expect(after.statusCode).toBe(202);
    // No id burned: the next id follows on.
    expect(after.json<{ firstId: number }>().firstId).toBe(before.json<{ firstId: number }>().firstId + 1);
    expect(await readTopic(testKafka(context), events)).toHaveLength(2);
  });
});
