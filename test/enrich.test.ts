import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { describe, expect, it } from 'vitest';
import { enrichGroup } from '../src/kafka/topics.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import { enrich } from '../src/stages/enrich/rules.js';
import { type EnrichedEvent } from '../src/model/enriched-event.js';
import { loadStaticTable } from '../src/stages/enrich/static-tables.js';
import { cleanEnv, kappa, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { testKafka, useTestContext } from './support/context.js';
import { readAtLeast, readTopic, type TopicMessage } from './support/read-topic.js';
import { useRegistryAndProcesses } from './support/registry.js';

const context = useTestContext('enrich');
const { registryUrl, track } = useRegistryAndProcesses(context);

function pipeline(name: string): Record<string, string> {
  return {
    KAPPA_KAFKA_BROKERS: context.brokers.join(','),
    KAPPA_REGISTRY_URL: registryUrl(),
    KAPPA_TOPIC_EVENTS: context.topic(`${name}-events`),
    KAPPA_TOPIC_STAGES: context.topic(`${name}-stages`),
    KAPPA_STATE_DIR: mkdtempSync(join(tmpdir(), `kappa-enrich-${name}-`)),
    KAPPA_LOG_LEVEL: 'info',
  };
}

/** `kappa enrich` as a background process, its output in a log file (kept for post-mortems). */
function startEnrich(env: Record<string, string>, label: string): ChildProcess {
  const log = openSync(join(env['KAPPA_STATE_DIR'] ?? tmpdir(), `enrich-${label}.log`), 'a');
  return track(spawn(process.execPath, [KAPPA_BIN, 'enrich'], { env: cleanEnv(env), stdio: ['ignore', log, log] }));
}

/** Waits until a stage's log has a line containing `text`. */
async function waitForLog(env: Record<string, string>, label: string, text: string, timeoutMs = 60_000): Promise<void> {
  const file = join(env['KAPPA_STATE_DIR'] ?? '', `enrich-${label}.log`);
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(file) && readFileSync(file, 'utf8').includes(text))) {
    if (Date.now() > deadline) throw new Error(`${file} has no line with "${text}" after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function ingest(env: Record<string, string>, count: number, rate = 0): Promise<void> {
  const result = await kappaAsync(['ingest', '--count', String(count), '--rate', String(rate)], env);
  expect(result.code, result.stderr).toBe(0);
}

async function decodeStages(
  messages: readonly TopicMessage[],
): Promise<(EnrichedEvent & { key: string | undefined })[]> {
  const client = new SchemaRegistry({ host: registryUrl() });
  return Promise.all(
    messages.map(async (message) => ({ ...((await client.decode(message.value)) as EnrichedEvent), key: message.key })),
  );
}

/** Exactly ids 0..n-1, once each, enriched by the rules with the shipped tables. */
async function expectExactlyOnce(messages: readonly TopicMessage[], n: number): Promise<void> {
  const records = await decodeStages(messages);
  const ids = records.map((record) => record.id).sort((a, b) => a - b);
  expect(ids.length).toBe(n);
  expect(new Set(ids).size).toBe(n);
  expect(ids.at(-1)).toBe(n - 1);
  const tables = {
    names: await loadStaticTable(new URL('../data/names.jsonl', import.meta.url).pathname, 'uid'),
    depts: await loadStaticTable(new URL('../data/depts.jsonl', import.meta.url).pathname, 'did'),
    maleLabel: '남성',
    femaleLabel: '여성',
  };
  for (const record of records) {
    const { key, ...enriched } = record;
    expect(enriched).toEqual(enrich({ id: record.id, hello: 'ssm-seoul', time: record.time }, tables));
    expect(key).toBe(String(record.user_id));
  }
}

/**
 * kill -9 once `written` records are in `stages`, and check that the kill landed before all `total`
 * were. The topic's end offsets (read_committed: committed transactions, markers included) are
 * polled by an admin connected beforehand, so the kill lands within ~20 ms of `written`: reading
 * the records with a new consumer (a group join, then fetches) took long enough for a stage to
 * commit a 150,000-event backlog whole first.
 */
async function killOnceWritten(stage: ChildProcess, stages: string, written: number, total: number): Promise<void> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    for (;;) {
      // The stage creates the topic: until then there are no offsets to read.
      const offsets = await admin.fetchTopicOffsets(stages).catch(() => []);
      if (offsets.reduce((sum, partition) => sum + Number(partition.high), 0) >= written) break;
      await sleep(20);
    }
  } finally {
    await admin.disconnect();
  }
  stage.kill('SIGKILL');
  await exitOf(stage);
  const atKill = await readAtLeast(testKafka(context), stages, 1, 1_000);
  expect(atKill.length, 'the kill must land mid-stream').toBeLessThan(total);
}

// Generous: each test runs stages as processes; on a busy 2-core machine a minute is not enough.
describe('kappa enrich against the real broker', { timeout: 180_000 }, () => {
  it('turns N events into exactly N enriched records (read_committed), and stops on SIGTERM', async () => {
    const env = pipeline('basic');
    await ingest(env, 5_000);
    const stage = startEnrich(env, 'a');
    await expectExactlyOnce(await readAtLeast(testKafka(context), env['KAPPA_TOPIC_STAGES'] ?? '', 5_000), 5_000);
    stage.kill('SIGTERM');
    expect(await exitOf(stage)).toBe(0);
  });

  it('survives kill -9 mid-stream: after a restart, still exactly N, no duplicate ids', async () => {
    const env = pipeline('killed');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    const first = startEnrich(env, 'first');
    await waitForLog(env, 'first', 'partitions assigned');
    const feeding = ingest(env, 30_000, 5_000);
    // Kill it while events still arrive: some transactions committed, one likely open.
    await killOnceWritten(first, stages, 2_000, 30_000);
    startEnrich(env, 'second');
    await feeding;
    const input = await readTopic(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '');
    expect(new Set(input.map((message) => message.key)).size, 'the input holds every id once').toBe(30_000);
    expect(input).toHaveLength(30_000);
    await expectExactlyOnce(await readAtLeast(testKafka(context), stages, 30_000, 3_000), 30_000);
  });

  it('catches up a backlog in transactions carried across fetches, through a kill -9 and a rebalance: exactly N', async () => {
    // 150,000 events before the stage starts: ~50,000 per partition, far more than one fetch and
    // than the 10,000 records behind the end under which a stage counts as live — so transactions
    // continue from one fetched batch into the next.
    const env = pipeline('backlog');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    await ingest(env, 150_000);
    const first = startEnrich(env, 'first');
    await killOnceWritten(first, stages, 10_000, 150_000);
    startEnrich(env, 'second');
    await waitForLog(env, 'second', 'partitions assigned');
    // A second instance mid-catch-up: a rebalance gives up the carried transactions.
    startEnrich(env, 'third');
    await expectExactlyOnce(await readAtLeast(testKafka(context), stages, 150_000, 3_000), 150_000);
  });

  it('shares the partitions between two instances, through rebalances mid-stream: exactly N', async () => {
    const env = pipeline('pair');
    const a = startEnrich(env, 'a');
    await waitForLog(env, 'a', 'partitions assigned');
    const feeding = ingest(env, 20_000, 2_000);
    await sleep(1_000);
    startEnrich(env, 'b');
    await waitForLog(env, 'b', 'partitions assigned');
    await sleep(1_500);
    a.kill('SIGTERM');
    await feeding;
    await expectExactlyOnce(
      await readAtLeast(testKafka(context), env['KAPPA_TOPIC_STAGES'] ?? '', 20_000, 3_000),
      20_000,
    );
    // Both really worked on partitions: b joined while a ran, and took everything when a left.
    const assignments = (label: string) =>
      readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', `enrich-${label}.log`), 'utf8')
        .split('\n')
        .filter((line) => line.includes('partitions assigned'))
        .map((line) => (JSON.parse(line) as { partitions: number[] }).partitions.length);
    expect(assignments('a')[0]).toBe(3);
    expect(assignments('b')).toContain(3);
    expect(Math.min(...assignments('a'), ...assignments('b'))).toBeLessThan(3);
    expect(await exitOf(a)).toBe(0);
  });

  it('sends garbage and invalid events to events.dlq with the reason, and keeps going', async () => {
    const env = pipeline('dlq');
    await ingest(env, 10);
    const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
    const v1 = await new SchemaRegistry({ host: registryUrl() }).getLatestSchemaId(`${events}-value`);
    const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const type = parseAvro(
      JSON.stringify({
        type: 'record',
        name: 'Event',
        namespace: 'dev.kappa',
        fields: [
          { name: 'id', type: 'long' },
          { name: 'hello', type: 'string' },
          { name: 'time', type: 'string' },
          { name: 'event_ts', type: ['null', 'long'], default: null },
        ],
      }),
    );
    await producer.send({
      topic: events,
      messages: [
        { key: 'garbage', value: Buffer.from('definitely not avro') },
        {
          key: 'invalid',
          value: encodeWithSchemaId(v1, type, { id: -5, hello: 'x', time: 'yesterday', event_ts: null }),
        },
      ],
    });
    await producer.disconnect();
    await ingest(env, 10);
    startEnrich(env, 'dlq');
    const deadLetters = await readAtLeast(testKafka(context), `${events}.dlq`, 2, 2_000);
    expect(
      deadLetters
        .map((message) => [
          message.key,
          message.headers?.['kappa.dlq.reason']?.toString(),
          message.headers?.['kappa.source.topic']?.toString(),
        ])
        .sort(),
    ).toEqual([
      ['garbage', 'not-avro-wire-format', events],
      ['invalid', 'invalid', events],
    ]);
    for (const message of deadLetters) expect(message.headers?.['kappa.source.offset']?.toString()).toMatch(/^\d+$/);
    await expectExactlyOnce(await readAtLeast(testKafka(context), env['KAPPA_TOPIC_STAGES'] ?? '', 20, 2_000), 20);
  });

  it('stops with KAPPA_SCHEMA_NOT_FOUND on a schema id the registry does not know: nothing dead-lettered, nothing committed past it; enriched once registered', async () => {
    const env = pipeline('unknown');
    await ingest(env, 10);
    const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
    const registry = new SchemaRegistry({ host: registryUrl() });
    // The id the registry gives the next new schema (ids are dense): a record framed with it
    // before that schema exists is what a registry still loading its log looks like.
    let next = await registry.getLatestSchemaId(`${events}-value`);
    while ((await fetch(`${registryUrl()}/schemas/ids/${next}`)).status === 200) next += 1;
    const writer = {
      type: 'record',
      name: 'Event',
      namespace: 'dev.kappa',
      doc: 'the events schema as another producer registers it',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'hello', type: 'string' },
        { name: 'time', type: 'string' },
        { name: 'event_ts', type: ['null', 'long'], default: null },
      ],
    };
    const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const [sent] = await producer.send({
      topic: events,
      messages: [
        {
          key: '10',
          partition: 0,
          value: encodeWithSchemaId(next, parseAvro(JSON.stringify(writer)), {
            id: 10,
            hello: 'ssm-seoul',
            time: '2026-12-05 10:00:00',
            event_ts: null,
          }),
        },
      ],
    });
    await producer.disconnect();
    const unknownAt = BigInt(sent?.baseOffset ?? '0');

    const stage = startEnrich(env, 'unknown');
    // Asked again with back-off for 30 s, then the process ends with the code.
    expect(await exitOf(stage)).toBe(1);
    const log = readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', 'enrich-unknown.log'), 'utf8');
    expect(log).toContain('KAPPA_SCHEMA_NOT_FOUND');
    expect(log).toContain(`schema id ${next} is not in the schema registry at ${registryUrl()}`);
    expect(await readTopic(testKafka(context), `${events}.dlq`)).toEqual([]);
    const admin = testKafka(context).admin();
    await admin.connect();
    const [committed] = await admin
      .fetchOffsets({ groupId: enrichGroup(env['KAPPA_TOPIC_STAGES'] ?? ''), topics: [events] })
      .finally(() => admin.disconnect());
    const partition0 = committed?.partitions.find((entry) => entry.partition === 0)?.offset ?? '-1';
    expect(BigInt(partition0)).toBeLessThanOrEqual(unknownAt);

    // Registered (under another subject, as another producer would): a restart enriches it, exactly once.
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(writer) },
      { subject: `${events}-other-value` },
    );
    expect(id).toBe(next);
    const again = startEnrich(env, 'unknown-again');
    await expectExactlyOnce(await readAtLeast(testKafka(context), env['KAPPA_TOPIC_STAGES'] ?? '', 11, 2_000), 11);
    again.kill('SIGTERM');
    expect(await exitOf(again)).toBe(0);
  });

  it('ends the process when its consumer crashes for good (a bad record under --bad-records fail), instead of idling', async () => {
    const env: Record<string, string> = { ...pipeline('fail'), KAPPA_BAD_RECORDS: 'fail' };
    await ingest(env, 5);
    const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: env['KAPPA_TOPIC_EVENTS'] ?? '',
      messages: [{ key: 'garbage', value: Buffer.from('definitely not avro') }],
    });
    await producer.disconnect();
    const stage = startEnrich(env, 'fail');
    expect(await exitOf(stage)).toBe(1);
    const log = readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', 'enrich-fail.log'), 'utf8');
    expect(log).toContain('KAPPA_BAD_RECORD');
    expect(log).toContain('not-avro-wire-format');
  });

  it('refuses a malformed names file at start-up, naming file and line', () => {
    const env = pipeline('badfile');
    const file = join(env['KAPPA_STATE_DIR'] ?? '', 'names.jsonl');
    writeFileSync(file, '{"uid":0,"name":"A"}\n{"uid":1,"name":\n');
    const result = kappa(['enrich', '--names-file', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:2: not JSON`);
  });
});
