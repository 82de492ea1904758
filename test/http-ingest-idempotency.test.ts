import type { ProducerRecord } from 'kafkajs';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpIngest, type IngestSend } from '../src/api/http-ingest.js';
import { idempotencyLockName } from '../src/api/idempotency-key.js';
import { startApi, type RunningApi } from '../src/api/server.js';
import { testKafka, useTestContext } from './support/context.js';
import { readTopic } from './support/read-topic.js';
import { useRegistryAndProcesses } from './support/registry.js';

const context = useTestContext('http-ingest-idem');
const { registryUrl } = useRegistryAndProcesses(context);

const TOKEN = 'test-token-0123456789abcdef';

describe('POST /api/events with an Idempotency-Key (real broker and MariaDB)', { timeout: 180_000 }, () => {
  const events = context.topic('events');
  const settings = () => ({
    brokers: context.brokers,
    registryUrl: registryUrl(),
    mysqlUrl: context.mysqlUrl,
    topicEvents: events,
    topicStages: context.topic('stages'),
    topicPartitions: 3,
    topicReplicationFactor: 1,
    schemasDir: new URL('../schemas', import.meta.url).pathname,
    timeZone: 'UTC',
  });
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ ...settings(), host: '127.0.0.1', port: 0, token: TOKEN, logger: context.logger });
  }, 120_000);

  afterAll(() => api.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    api.app.inject({ method: 'POST', url: '/api/events', payload: body as object, headers });

  /** Each key (id) the topic holds, with how many times. */
  const keyCounts = async () => {
    const counts = new Map<string, number>();
    for (const message of await readTopic(testKafka(context), events))
      counts.set(message.key ?? '', (counts.get(message.key ?? '') ?? 0) + 1);
    return counts;
  };

  const idsOf = (answer: { firstId: number; lastId: number }) =>
    Array.from({ length: answer.lastId - answer.firstId + 1 }, (_, index) => String(answer.firstId + index));

  it('answers a retry with the same key and body with the same ids and writes nothing twice', async () => {
    const body = { events: [{ hello: 'a' }, { hello: 'b' }, { hello: 'c' }, { hello: 'd' }] };
    const first = await post(body, { 'idempotency-key': 'order-1' });
    expect(first.statusCode).toBe(202);
    const again = await post(body, { 'idempotency-key': 'order-1' });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    const counts = await keyCounts();
    for (const id of idsOf(first.json())) expect(counts.get(id)).toBe(1);
    expect([...counts.values()].reduce((sum, count) => sum + count, 0)).toBe(4);

    // Without the header, the same body is a new request, as before.
    const unkeyed = await post(body);
    expect(unkeyed.statusCode).toBe(202);
    expect(unkeyed.json<{ firstId: number }>().firstId).toBeGreaterThan(first.json<{ lastId: number }>().lastId);
  });

  it('serialises two requests with the same key sent at once: one set of ids, each written once', async () => {
    const body = { events: [{ hello: 'r1' }, { hello: 'r2' }, { hello: 'r3' }] };
    const [one, two] = await Promise.all([
      post(body, { 'idempotency-key': 'order-race' }),
      post(body, { 'idempotency-key': 'order-race' }),
    ]);
    expect(one.statusCode).toBe(202);
    expect(two.json()).toEqual(one.json());
    const counts = await keyCounts();
    for (const id of idsOf(one.json())) expect(counts.get(id)).toBe(1);
  });

  it(
    'answers 409 KAPPA_IDEMPOTENCY_KEY_BUSY with Retry-After when the key stays locked past the wait (not 500)',
    { timeout: 180_000 },
    async () => {
      // Another API process still working on the key: it holds the key's named lock.
      const admin = testKafka(context).admin();
      await admin.connect();
      const { clusterId } = await admin.describeCluster().finally(() => admin.disconnect());
      const holder = await createConnection({ uri: context.mysqlUrl });
      try {
        const lock = idempotencyLockName(`${clusterId}/${events}`, 'order-busy');
        const [taken] = await holder.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [lock]);
        expect(Number(taken[0]?.['got'])).toBe(1);
        const body = { events: [{ hello: 'busy' }] };
        // MySQL gives up on the lock after the 30 s wait.
        const busy = await post(body, { 'idempotency-key': 'order-busy' });
        expect(busy.statusCode).toBe(409);
        expect(busy.json()).toMatchObject({ code: 'KAPPA_IDEMPOTENCY_KEY_BUSY' });
        expect(busy.json<{ message: string }>().message).toMatch(/still running after 30 s/);
        expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
        await holder.query('SELECT RELEASE_LOCK(?)', [lock]);
        // Once the other request is done, the retry goes through.
        const retried = await post(body, { 'idempotency-key': 'order-busy' });
        expect(retried.statusCode).toBe(202);
      } finally {
        await holder.end();
      }
    },
  );

  it('refuses the same key with another body (422) and a malformed key (400)', async () => {
    const first = await post({ events: [{ hello: 'x' }] }, { 'idempotency-key': 'order-2' });
    expect(first.statusCode).toBe(202);
    const other = await post({ events: [{ hello: 'y' }] }, { 'idempotency-key': 'order-2' });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'KAPPA_IDEMPOTENCY_KEY_REUSED' });
    for (const bad of ['k'.repeat(201), 'caf\u00e9']) {
      const answer = await post({ events: [{ hello: 'x' }] }, { 'idempotency-key': bad });
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'KAPPA_BAD_REQUEST', field: 'Idempotency-Key' });
    }
  });

  it('after a send that failed half-way, a retry sends only what is missing and answers the ids first reserved', async () => {
    let failing = true;
    const sentKeys: string[] = [];
    // Writes the records of one partition, then fails: the broker holds part of the batch.
    const send: IngestSend = async (producer, record: ProducerRecord) => {
      if (!failing) return producer.send(record);
      failing = false;
      const part = record.messages.filter((message) => message.partition === record.messages[0]?.partition);
      sentKeys.push(...record.messages.map((message) => String(message.key)));
      await producer.send({ ...record, messages: part });
      throw new Error('the broker went away half-way');
    };
    const ingest = await HttpIngest.open({
      kafka: testKafka(context),
      registryUrl: registryUrl(),
      schemasDir: settings().schemasDir,
      mysqlUrl: context.mysqlUrl,
      topics: {
        topicEvents: events,
        topicStages: context.topic('stages'),
        topicPartitions: 3,
        topicReplicationFactor: 1,
      },
      timeZone: 'UTC',
      logger: context.logger,
      send,
    });
    try {
      // No `time`: it defaults to the request's time, which the retry must reproduce.
      const inputs = Array.from({ length: 6 }, (_, index) => ({ hello: `p${index}` }));
      await expect(ingest.writeKeyed('order-3', inputs)).rejects.toThrow('half-way');
      expect(sentKeys).toHaveLength(6);
      const before = await readTopic(testKafka(context), events);
      const partial = before.filter((message) => sentKeys.includes(message.key ?? ''));
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(6);

      // The retry runs 10 s later: a defaulted `time` would differ if it were prepared anew.
      const retried = await ingest.writeKeyed('order-3', inputs, Date.now() + 10_000);
      expect(retried).toEqual({
        first: Number(sentKeys[0]),
        last: Number(sentKeys[5]),
        written: 6 - partial.length,
      });
      const after = (await readTopic(testKafka(context), events)).filter((message) =>
        sentKeys.includes(message.key ?? ''),
      );
      expect(after.map((message) => message.key).sort()).toEqual([...sentKeys].sort());
      // Every record carries the first attempt's timestamp (and so the same default `time`).
      expect(new Set(after.map((message) => message.timestamp)).size).toBe(1);

      // Through the API, the same key now answers with those ids.
      const answer = await post({ events: inputs }, { 'idempotency-key': 'order-3' });
      expect(answer.statusCode).toBe(202);
      expect(answer.json()).toEqual({ accepted: 6, firstId: Number(sentKeys[0]), lastId: Number(sentKeys[5]) });
    } finally {
      await ingest.close();
    }
  });
});
