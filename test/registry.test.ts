import { Partitioners } from '../src/kafka/kafkajs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry } from '../src/registry/server.js';
import { testKafka, useTestContext, createTestTopic } from './support/context.js';
import { startTestRegistry } from './support/registry.js';
import { confluentClient, kafkajsClient, type RegistryClientUnderTest } from './support/registry-clients.js';

const context = useTestContext('registry');
const schemasTopic = context.topic('_schemas');

const eventV1 = JSON.stringify({
  type: 'record',
  name: 'Event',
  namespace: 'dev.kappa',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'hello', type: 'string' },
    { name: 'time', type: 'string' },
  ],
});
const eventV2 = JSON.stringify({
  ...(JSON.parse(eventV1) as object),
  fields: [
    ...(JSON.parse(eventV1) as { fields: object[] }).fields,
    { name: 'event_ts', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
  ],
});
const idAsString = JSON.stringify({
  ...(JSON.parse(eventV1) as object),
  fields: [
    { name: 'id', type: 'string' },
    { name: 'hello', type: 'string' },
    { name: 'time', type: 'string' },
  ],
});

function start(): Promise<RunningRegistry> {
  return startTestRegistry(context, schemasTopic);
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { status?: number }).status;
  }
}

let first: RunningRegistry;
let second: RunningRegistry;

beforeAll(async () => {
  [first, second] = await Promise.all([start(), start()]);
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
});

const CLIENTS: ReadonlyArray<readonly [string, (url: string) => RegistryClientUnderTest]> = [
  ['@kafkajs/confluent-schema-registry', kafkajsClient],
  ['@confluentinc/schemaregistry', confluentClient],
];

describe.each(CLIENTS)('through %s', (label, makeClient) => {
  const topic = context.topic(`events-${label.replace(/\W/g, '')}`);
  const subject = `${topic}-value`;

  it('registers, looks up, encodes and decodes', async () => {
    const client = makeClient(first.url);
    const id = await client.register(subject, eventV1);
    expect(await client.register(subject, eventV1)).toBe(id);
    expect(await client.idOf(subject, eventV1)).toBe(id);
    expect(await client.latestId(subject)).toBe(id);
    const record = { id: 42, hello: 'ssm-seoul', time: '2026-11-22 20:31:07' };
    const payload = await client.encode(topic, id, record);
    expect(payload[0]).toBe(0);
    expect(payload.readInt32BE(1)).toBe(id);
    expect(await makeClient(second.url).decode(topic, payload, eventV1)).toEqual(record);
  });

  it('rejects an incompatible version with 409 (a type change; a removed field without default)', async () => {
    const client = makeClient(second.url);
    await client.register(subject, eventV1);
    expect(await statusOf(client.register(subject, idAsString))).toBe(409);
    const newRequiredField = JSON.stringify({
      ...(JSON.parse(eventV1) as object),
      fields: [...(JSON.parse(eventV1) as { fields: object[] }).fields, { name: 'region', type: 'string' }],
    });
    expect(await statusOf(client.register(subject, newRequiredField))).toBe(409);
  });

  it('replays a topic mixing v1 and v2 records from offset 0, decoding each with the current reader schema', async () => {
    const client = makeClient(first.url);
    const kafka = testKafka(context);
    const admin = kafka.admin();
    await admin.connect();
    await createTestTopic(admin, topic, 3);
    await admin.disconnect();

    const v1 = await client.register(subject, eventV1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const early = Array.from({ length: 30 }, (_, id) => ({ id, hello: 'ssm-seoul', time: '2026-11-22 20:31:07' }));
    await producer.send({
      topic,
      messages: await Promise.all(
        early.map(async (record) => ({ key: String(record.id), value: await client.encode(topic, v1, record) })),
      ),
    });
    const v2 = await client.register(subject, eventV2);
    expect(v2).not.toBe(v1);
    const late = Array.from({ length: 30 }, (_, index) => ({
      id: 30 + index,
      hello: 'ssm-seoul',
      time: '2026-11-22 20:31:08',
      event_ts: 1_795_000_000_000 + index,
    }));
    await producer.send({
      topic,
      messages: await Promise.all(
        late.map(async (record) => ({ key: String(record.id), value: await client.encode(topic, v2, record) })),
      ),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${context.prefix}-replay-${label.replace(/\W/g, '')}` });
    const decoded: Record<string, unknown>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`decoded ${decoded.length} records, fewer than 60 ids`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            decoded.push(
              (await client.decode(topic, message.value ?? Buffer.alloc(0), eventV2)) as Record<string, unknown>,
            );
            // A rebalance under load may deliver a record again: 60 distinct ids, not 60 deliveries.
            if (new Set(decoded.map((record) => Number(record['id']))).size === 60) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const byId = new Map(decoded.map((record) => [Number(record['id']), record]));
    expect([...byId.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, id) => id));
    for (const record of early) expect(byId.get(record.id)).toMatchObject({ ...record, event_ts: null });
    for (const record of late) {
      const got = byId.get(record.id);
      // timestamp-millis comes back as a number (kafkajs) or a Date (Confluent's logical-type support).
      const ts = got?.['event_ts'];
      expect(ts instanceof Date ? ts.getTime() : ts).toBe(record.event_ts);
    }
  });
});

describe('several registry instances on one topic', () => {
  it('agree on ids under concurrent registration, and each resolves the others’ ids at once', async () => {
    const [a, b] = [kafkajsClient(first.url), kafkajsClient(second.url)];
    const schemas = Array.from({ length: 8 }, (_, index) =>
      JSON.stringify({ type: 'record', name: `Concurrent${index}`, fields: [{ name: 'n', type: 'int' }] }),
    );
    const ids = await Promise.all(
      schemas.map((schema, index) =>
        (index % 2 === 0 ? a : b).register(`${context.prefix}-concurrent-${index}`, schema),
      ),
    );
    expect(new Set(ids).size).toBe(schemas.length);
    for (const [index, schema] of schemas.entries()) {
      const id = ids[index] ?? 0;
      for (const registry of [first, second])
        expect(JSON.parse(await registry.service.schemaById(id))).toEqual(JSON.parse(schema));
    }
  });

  it('keep every id after all instances restart (the topic is the store)', async () => {
    const client = kafkajsClient(first.url);
    const subject = `${context.prefix}-durable-value`;
    const id = await client.register(subject, eventV1);
    const known = await first.service.schemaById(id);
    await Promise.all([first.close(), second.close()]);
    [first, second] = await Promise.all([start(), start()]);
    const response = await fetch(`${second.url}/schemas/ids/${id}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { schema: string }).schema).toBe(known);
    expect(await kafkajsClient(first.url).idOf(subject, eventV1)).toBe(id);
  });
});

describe('the two client libraries', () => {
  it('read each other’s messages (same wire format, same ids)', async () => {
    const topic = context.topic('cross');
    const [kafkajs, confluent] = [kafkajsClient(first.url), confluentClient(second.url)];
    const id = await kafkajs.register(`${topic}-value`, eventV1);
    expect(await confluent.idOf(`${topic}-value`, eventV1)).toBe(id);
    const record = { id: 7, hello: 'x', time: '2026-11-22 20:31:07' };
    expect(await confluent.decode(topic, await kafkajs.encode(topic, id, record), eventV1)).toEqual(record);
    expect(await kafkajs.decode(topic, await confluent.encode(topic, id, record), eventV1)).toEqual(record);
  });
});
