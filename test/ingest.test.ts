import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLate } from '../src/ingest/event-generator.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { createKafka } from '../src/kafka/client.js';
import { startRegistry, type RunningRegistry } from '../src/registry/server.js';
import { startBroker, stopBroker } from '../src/stack/broker.js';
import { loadConfig } from '../src/config/load.js';
import { freePort } from '../src/stack/processes.js';
import { cleanEnv, kappa, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { testKafka, useTestContext } from './support/context.js';
import { startTestRegistry } from './support/registry.js';
import { readTopic, type TopicMessage } from './support/read-topic.js';

const context = useTestContext('ingest');

interface Decoded {
  readonly id: number;
  readonly hello: string;
  readonly time: string;
  readonly event_ts: number | null;
}

let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startTestRegistry(context);
});
afterAll(() => registry.close());

function envFor(
  topic: string,
  stateDir: string,
  brokers = context.brokers,
  registryUrl = registry.url,
): Record<string, string> {
  return {
    KAPPA_KAFKA_BROKERS: brokers.join(','),
    KAPPA_REGISTRY_URL: registryUrl,
    KAPPA_TOPIC_EVENTS: topic,
    KAPPA_TOPIC_STAGES: `${topic}_stages`,
    KAPPA_STATE_DIR: stateDir,
    KAPPA_LOG_LEVEL: 'warn',
  };
}

async function decodeAll(
  messages: readonly TopicMessage[],
  registryUrl = registry.url,
): Promise<(Decoded & { message: TopicMessage })[]> {
  const client = new SchemaRegistry({ host: registryUrl });
  return Promise.all(
    messages.map(async (message) => ({ ...((await client.decode(message.value)) as Decoded), message })),
  );
}

/** Ids of the topic: exactly once each, contiguous from 0, increasing within each partition. */
/** Waits until the topic holds at least `records` records (the generator has really started). */
async function waitForRecords(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  records: number,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      if (offsets.reduce((sum, entry) => sum + Number(entry.high), 0) >= records) return;
      if (Date.now() > deadline) throw new Error(`${topic} did not reach ${records} records in ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

function expectContiguousOnce(records: readonly (Decoded & { message: TopicMessage })[], total: number): void {
  const ids = records.map((record) => record.id).sort((a, b) => a - b);
  expect(ids.length).toBe(total);
  expect(new Set(ids).size).toBe(total);
  expect(ids[0]).toBe(0);
  expect(ids.at(-1)).toBe(total - 1);
  for (const record of records) expect(record.message.key).toBe(String(record.id));
  const byPartition = new Map<number, (Decoded & { message: TopicMessage })[]>();
  for (const record of records)
    byPartition.set(record.message.partition, [...(byPartition.get(record.message.partition) ?? []), record]);
  for (const inPartition of byPartition.values()) {
    const ordered = [...inPartition]
      .sort((a, b) => Number(a.message.offset - b.message.offset))
      .map((record) => record.id);
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
  }
}

describe('kappa ingest against the real broker', () => {
  const topic = context.topic('events');
  const stateDir = mkdtempSync(join(tmpdir(), 'kappa-ingest-'));

  it('--count 10000 writes ids 0..9999 exactly once', async () => {
    const result = await kappaAsync(['ingest', '--count', '10000', '--rate', '0'], envFor(topic, stateDir));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`ingest: 10000 events sent to ${topic} (ids 0..9999)\n`);
    const records = await decodeAll(await readTopic(testKafka(context), topic));
    expectContiguousOnce(records, 10_000);
    expect(
      records.every((record) => record.hello === 'ssm-seoul' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(record.time)),
    ).toBe(true);
  });

  it('a second run continues with 10000..10999', async () => {
    const result = await kappaAsync(
      ['ingest', '--count', '1000', '--rate', '0', '--template', '{"hello":"again"}'],
      envFor(topic, stateDir),
    );
    expect(result.stdout).toBe(`ingest: 1000 events sent to ${topic} (ids 10000..10999)\n`);
    const records = await decodeAll(await readTopic(testKafka(context), topic));
    expectContiguousOnce(records, 11_000);
    expect(
      records
        .filter((record) => record.hello === 'again')
        .map((record) => record.id)
        .sort((a, b) => a - b)[0],
    ).toBe(10_000);
  });

  it('continues from the log even when all local state is lost', async () => {
    rmSync(stateDir, { recursive: true, force: true });
    const result = await kappaAsync(
      ['ingest', '--count', '100', '--rate', '0'],
      envFor(topic, mkdtempSync(join(tmpdir(), 'kappa-ingest-fresh-'))),
    );
    expect(result.stdout).toBe(`ingest: 100 events sent to ${topic} (ids 11000..11099)\n`);
  });

  it('--late-fraction 0.1 --late-by 30s --seed 1 shifts exactly the expected events back by 30 s', async () => {
    const lateTopic = context.topic('late');
    const result = await kappaAsync(
      [
        'ingest',
        '--count',
        '2000',
        '--rate',
        '0',
        '--late-fraction',
        '0.1',
        '--late-by',
        '30s',
        '--seed',
        '1',
        '--time-zone',
        'Asia/Seoul',
      ],
      envFor(lateTopic, mkdtempSync(join(tmpdir(), 'kappa-late-'))),
    );
    expect(result.code, result.stderr).toBe(0);
    const records = await decodeAll(await readTopic(testKafka(context), lateTopic));
    expect(records).toHaveLength(2_000);
    const late = records.filter((record) => isLate(1, record.id, 0.1));
    expect(late.length).toBeGreaterThan(150);
    expect(late.length).toBeLessThan(250);
    for (const record of records) {
      const eventTs = record.event_ts ?? Number.NaN;
      expect(record.time).toBe(formatEventTime(eventTs, 'Asia/Seoul'));
      const lag = record.message.timestamp - eventTs;
      if (isLate(1, record.id, 0.1)) expect(lag, `id ${record.id}`).toBeGreaterThanOrEqual(30_000);
      if (isLate(1, record.id, 0.1)) expect(lag, `id ${record.id}`).toBeLessThan(35_000);
      else expect(lag, `id ${record.id}`).toBeLessThan(5_000);
    }
  });

  it.each([
    [['--rate', '-5'], 'invalid --rate "-5"'],
    [['--time-zone', 'Mars/Olympus'], 'invalid --time-zone "Mars/Olympus"'],
    [['--template', '{"hello":'], 'invalid --template "{\\"hello\\":": is not JSON'],
    [['--template', '{"id":5}'], 'invalid --template: id is not a field the template may set'],
    [['--template', '{"time":"2026-02-30 10:00:00"}'], 'invalid --template: time "2026-02-30 10:00:00" is not a valid'],
    [['--template', '{"time":"2026-11-22 24:00:00"}'], 'invalid --template: time "2026-11-22 24:00:00" is not a valid'],
    [['--late-fraction', '1.5'], 'invalid --late-fraction "1.5"'],
    [['--late-by', '30'], 'invalid --late-by "30"'],
    [['--count', '0'], 'invalid --count "0"'],
  ])('refuses %j with exit 2 naming the setting', (args, message) => {
    const result = kappa(['ingest', ...args], envFor(topic, stateDir));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe('kappa ingest stopped with Ctrl-C', () => {
  it('flushes what it generated: exit 0, nothing left in the buffer, every id in the log once', async () => {
    const topic = context.topic('interrupted');
    const stateDir = mkdtempSync(join(tmpdir(), 'kappa-sigint-'));
    const child = spawn(process.execPath, [KAPPA_BIN, 'ingest', '--rate', '1000'], {
      env: cleanEnv(envFor(topic, stateDir)),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForRecords(testKafka(context), topic, 1_200);
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const match = /ingest: (\d+) events sent to .* \(ids 0\.\.(\d+)\)\n$/.exec(stdout);
    expect(match, stdout).not.toBeNull();
    const sent = Number(match?.[1]);
    expect(sent).toBeGreaterThan(1_000);
    // One writer folder, holding its (released) lock and no chunk.
    const [writer, ...others] = readdirSync(join(stateDir, 'ingest', topic));
    expect(others).toEqual([]);
    expect(
      readdirSync(join(stateDir, 'ingest', topic, writer ?? '')).filter((name) => !name.startsWith('lock.')),
    ).toEqual([]);
    expectContiguousOnce(await decodeAll(await readTopic(testKafka(context), topic)), sent);
  });
});

describe('kappa ingest when things fail', () => {
  it('survives kill -9 mid-run: the restart delivers the buffer and every id is in the log exactly once', async () => {
    const topic = context.topic('killed');
    const stateDir = mkdtempSync(join(tmpdir(), 'kappa-killed-'));
    const env = envFor(topic, stateDir);
    const child = spawn(process.execPath, [KAPPA_BIN, 'ingest', '--rate', '2000'], {
      env: cleanEnv(env),
      stdio: 'ignore',
    });
    await waitForRecords(testKafka(context), topic, 1_200);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const restarted = await kappaAsync(['ingest', '--count', '500', '--rate', '0'], env);
    expect(restarted.code, restarted.stderr).toBe(0);
    const records = await decodeAll(await readTopic(testKafka(context), topic));
    const total = Math.max(...records.map((record) => record.id)) + 1;
    expect(total).toBeGreaterThan(1_000);
    expectContiguousOnce(records, total);
  });

  it(
    'halts when it cannot buffer a chunk: exit 1 KAPPA_GENERATOR_FAILED, sending stops, the next start loses nothing',
    { timeout: 180_000 },
    async () => {
      const topic = context.topic('unbuffered');
      const stateDir = mkdtempSync(join(tmpdir(), 'kappa-unbuffered-'));
      const env = envFor(topic, stateDir);
      const child = spawn(process.execPath, [KAPPA_BIN, 'ingest', '--rate', '50'], {
        env: cleanEnv(env),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        await waitForRecords(testKafka(context), topic, 100);
        // The generator writes each chunk to `<first id>.json.tmp` first: a folder in that place for
        // every id from the log's end on makes its next write fail (EISDIR, even as root), whatever
        // chunk it is at. Sending and removing sent chunks go on unhindered.
        const [writer] = readdirSync(join(stateDir, 'ingest', topic));
        const folder = join(stateDir, 'ingest', topic, writer ?? '');
        const inLog = await readTopic(testKafka(context), topic);
        const from = Math.max(...inLog.map((message) => Number(message.key))) + 1;
        const blocked = Array.from({ length: 20_000 }, (_, index) =>
          join(folder, `chunk-${String(from + index).padStart(16, '0')}.json.tmp`),
        );
        for (const path of blocked)
          try {
            mkdirSync(path);
          } catch (error) {
            // The chunk being written right now: the generator's next one is blocked.
            if ((error as { code?: string }).code !== 'EEXIST') throw error;
          }
        const code = await exited;
        expect(code, stderr).toBe(1);
        expect(stderr).toMatch(/KAPPA_GENERATOR_FAILED/);
        expect(stderr).toMatch(/EISDIR.*\.json\.tmp/);
        for (const path of blocked) rmSync(path, { recursive: true, force: true });
        // What it generated but did not send is in its buffer: the next start delivers it first.
        const restarted = await kappaAsync(['ingest', '--count', '10', '--rate', '0'], env);
        expect(restarted.code, restarted.stderr).toBe(0);
        const records = await decodeAll(await readTopic(testKafka(context), topic));
        const total = Math.max(...records.map((record) => record.id)) + 1;
        expectContiguousOnce(records, total);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  );

  it('buffers on disk while the broker is down for 10 s and delivers every id exactly once, in order', async () => {
    // A broker of its own: stopping the shared one would break the other test files.
    const stateDir = mkdtempSync(join(tmpdir(), 'kappa-outage-'));
    const config = loadConfig(['cacheDir', 'kafkaVersion'], { env: process.env });
    const brokerOptions = {
      stateDir,
      cacheDir: config.cacheDir,
      version: config.kafkaVersion,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: '512m',
      startTimeoutMs: 120_000,
    };
    const { state } = await startBroker(brokerOptions);
    const brokers = [`${state.host}:${state.port}`];
    const ownRegistry = await startRegistry({
      brokers,
      topic: '_schemas',
      replicationFactor: 1,
      host: '127.0.0.1',
      port: 0,
      logger: context.logger,
    });
    try {
      const topic = 'events';
      const run = kappaAsync(
        ['ingest', '--count', '4000', '--rate', '250'],
        envFor(topic, join(stateDir, 'ingest-state'), brokers, ownRegistry.url),
        180_000,
      );
      // Stop the broker once events really flow (start-up done: topics, schemas, ids).
      await waitForRecords(createKafka({ brokers, logger: context.logger }), topic, 500);
      await stopBroker({ stateDir, timeoutMs: 30_000 });
      await sleep(10_000);
      await startBroker(brokerOptions);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`ingest: 4000 events sent to ${topic} (ids 0..3999)\n`);
      const kafka = createKafka({ brokers, logger: context.logger });
      expectContiguousOnce(await decodeAll(await readTopic(kafka, topic), ownRegistry.url), 4_000);
    } finally {
      await ownRegistry.close();
      await stopBroker({ stateDir, timeoutMs: 30_000, purge: true });
    }
  }, 240_000);
});

describe('several writers of one events topic at once', () => {
  /** `kappa serve` on a free port (the HTTP ingest of the same topic); resolves once it answers. */
  async function startServe(env: Record<string, string>) {
    const port = await freePort();
    const child = spawn(process.execPath, [KAPPA_BIN, 'serve'], {
      env: cleanEnv({ ...env, KAPPA_API_PORT: String(port), KAPPA_API_HOST: '127.0.0.1' }),
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt += 1) {
      const answered = await fetch(`${url}/api/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (answered) break;
      if (attempt > 600) throw new Error('kappa serve did not answer');
      await sleep(200);
    }
    return { url, stop: () => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')) };
  }

  /** POSTs batches of 10 events until `until` settles; resolves with the ids the API gave. */
  async function postWhile(url: string, until: Promise<unknown>): Promise<number[]> {
    let done = false;
    void until.finally(() => (done = true));
    const ids: number[] = [];
    for (let batch = 0; !done || batch < 3; batch += 1) {
      const response = await fetch(`${url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          events: Array.from({ length: 10 }, (_, index) => ({ hello: `http-${batch}-${index}` })),
        }),
      });
      expect(response.status).toBe(202);
      const { firstId, lastId } = (await response.json()) as { firstId: number; lastId: number };
      expect(lastId - firstId).toBe(9);
      for (let id = firstId; id <= lastId; id += 1) ids.push(id);
      await sleep(100);
    }
    return ids;
  }

  it(
    'two `kappa ingest` in one directory plus POST /api/events: both exit 0, every id once; kill -9 and restart too',
    { timeout: 300_000 },
    async () => {
      const topic = context.topic('writers');
      const stateDir = mkdtempSync(join(tmpdir(), 'kappa-writers-'));
      const env = { ...envFor(topic, stateDir), KAPPA_MYSQL_URL: context.mysqlUrl };
      const api = await startServe(env);
      try {
        // 1. Two generators started at once, next to HTTP ingest.
        const both = Promise.all([
          kappaAsync(['ingest', '--count', '5000', '--rate', '0'], env, 180_000),
          kappaAsync(['ingest', '--count', '5000', '--rate', '0'], env, 180_000),
        ]);
        const posted = await postWhile(api.url, both);
        for (const result of await both) expect(result.code, result.stderr).toBe(0);
        const afterBoth = await readTopic(testKafka(context), topic);
        expect(afterBoth).toHaveLength(10_000 + posted.length);
        expect(new Set(afterBoth.map((message) => message.key)).size).toBe(afterBoth.length);

        // 2. Two generators again (each takes over a folder of the two that ended); one is killed
        //    mid-run, and its restart finds and delivers what it left in its buffer.
        const steady = kappaAsync(['ingest', '--count', '5000', '--rate', '500'], env, 180_000);
        const victim = spawn(process.execPath, [KAPPA_BIN, 'ingest', '--rate', '2000'], {
          env: cleanEnv(env),
          stdio: 'ignore',
        });
        await waitForRecords(testKafka(context), topic, afterBoth.length + 3_000);
        victim.kill('SIGKILL');
        await new Promise((resolve) => victim.once('exit', resolve));
        const restarted = kappaAsync(['ingest', '--count', '1000', '--rate', '0'], env, 180_000);
        posted.push(...(await postWhile(api.url, Promise.all([steady, restarted]))));
        for (const result of [await steady, await restarted]) expect(result.code, result.stderr).toBe(0);

        const ids = (await readTopic(testKafka(context), topic)).map((message) => Number(message.key));
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBeGreaterThan(10_000 + 5_000 + 1_000 + posted.length);
        expect(new Set(ids)).toEqual(new Set([...ids, ...posted]));
        // Two writer folders, taken over in turn, each with an empty buffer.
        const writers = readdirSync(join(stateDir, 'ingest', topic));
        expect(writers).toHaveLength(2);
        for (const writer of writers)
          expect(
            readdirSync(join(stateDir, 'ingest', topic, writer)).filter((name) => name.startsWith('chunk-')),
          ).toEqual([]);
      } finally {
        await api.stop();
      }
    },
  );
});
