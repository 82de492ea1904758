import { versionSettings } from '../src/model/version-settings.js';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection, createPool } from 'mysql2/promise';
import { ensureVersionTables } from '../src/aggregates/migrations.js';
import { serveFirstToCommit, switchReaders } from '../src/recovery/serving-pointer.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAggregate } from '../src/aggregates/run.js';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { startApi, type RunningApi } from '../src/api/server.js';
import { createKafka } from '../src/kafka/client.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { cleanEnv, KAPPA_BIN } from './support/cli.js';
import { testKafka } from './support/context.js';
import { readTopic } from './support/read-topic.js';

const { context, pipeline, produceStages, referenceFromLog, tablesOf, expectTablesToReach } =
  useAggregateHarness('api');
const TOKEN = 'test-token-0123456789abcdef';

describe('the query API (fastify.inject against real MariaDB, broker and registry)', () => {
  let env: Record<string, string>;
  let api: RunningApi;
  const stop = new AbortController();
  let aggregating: Promise<unknown>;

  beforeAll(async () => {
    env = pipeline('api');
    await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000, 3);
    const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000);
    aggregating = runAggregate({ ...aggregateOptions(), signal: stop.signal });
    await expectTablesToReach('v1', reference);
    api = await startApi(apiOptions());
  }, 180_000);

  afterAll(async () => {
    await api.close();
    stop.abort();
    await aggregating;
  });

  const get = (url: string) => api.app.inject({ method: 'GET', url });
  const post = (url: string, body: unknown, token?: string) =>
    api.app.inject({
      method: 'POST',
      url,
      payload: body as object,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  it('serves the first version that committed rows (through the views), and a version asked for', async () => {
    const serving = await get('/api/windows/users?limit=10000');
    expect(serving.statusCode, serving.body).toBe(200);
    expect(serving.json()).toMatchObject({ version: 'v1' });
    const asked = await get('/api/windows/users?version=v1&limit=10000');
    expect(asked.statusCode).toBe(200);
    const body = asked.json<{
      version: string;
      rows: { window_start: string; window_end: string; key: string; count: number }[];
    }>();
    expect(body.version).toBe('v1');
    expect(serving.json<{ rows: unknown[] }>().rows).toEqual(body.rows);
    const expected = new Map(
      [...(await tablesOf('v1')).rows]
        .filter(([key]) => key.includes('|user|'))
        .map(([key, count]) => [key.replace('|user|', '|'), count]),
    );
    expect(new Map(body.rows.map((row) => [`${Date.parse(row.window_start)}|${row.key}`, row.count]))).toEqual(
      expected,
    );
    expect(body.rows[0]?.window_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await get('/api/windows/users?version=v8')).json()).toMatchObject({
      statusCode: 404,
      code: 'KAPPA_VERSION_UNKNOWN',
      field: 'version',
    });
  });

  it('reads ages by a numeric key, and answers a key that is not a number with a 400 naming key', async () => {
    const bad = await get('/api/windows/ages?key=abc');
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'KAPPA_BAD_REQUEST', field: 'key' });
    const good = await get('/api/windows/ages?key=42&limit=10000');
    expect(good.statusCode, good.body).toBe(200);
    const rows = good.json<{ rows: { key: string }[] }>().rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.key === '42')).toBe(true);
  });

  it('cutover and rollback need the bearer token: 401 without it or with a wrong one', async () => {
    expect((await post('/api/cutover', { to: 'v1' })).statusCode).toBe(401);
    expect((await post('/api/cutover', { to: 'v1' }, 'wrong-token-0123456789abcdef')).json()).toMatchObject({
      statusCode: 401,
      code: 'KAPPA_UNAUTHORIZED',
    });
    expect((await post('/api/rollback', {})).statusCode).toBe(401);
    const cut = await post('/api/cutover', { to: 'v1' }, TOKEN);
    expect(cut.statusCode, cut.body).toBe(200);
    expect(cut.json()).toEqual({ from: 'v1', to: 'v1', unchanged: true });
    expect((await get('/api/windows/users')).json()).toMatchObject({ version: 'v1' });
    expect((await post('/api/cutover', { to: 'v9' }, TOKEN)).json()).toMatchObject({
      statusCode: 404,
      code: 'KAPPA_VERSION_UNKNOWN',
    });
    expect((await post('/api/rollback', {}, TOKEN)).json()).toMatchObject({
      statusCode: 409,
      code: 'KAPPA_ROLLBACK_REFUSED',
    });
  });

  it.each([
    ['from after to', '/api/windows/users?version=v1&from=2026-11-22T12:00:00Z&to=2026-11-22T11:00:00Z', 'from'],
    ['from not a date', '/api/windows/users?version=v1&from=yesterday', 'from'],
    ['a huge limit', '/api/windows/users?version=v1&limit=1000000', 'limit'],
    ['a limit that is not a number', '/api/windows/users?version=v1&limit=ten', 'limit'],
    ['an unknown parameter', '/api/windows/users?version=v1&colour=red', 'colour'],
    ['an unknown dimension', '/api/windows/cats', 'dim'],
    [
      'an injection string as version',
      "/api/windows/users?version=v1'%3B%20DROP%20TABLE%20events_users_v1%3B--",
      'version',
    ],
    ['n of zero', '/api/top/users?version=v1&n=0', 'n'],
  ])('refuses %s with a 400 naming the field', async (_label, url, field) => {
    const response = await get(url);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
  });

  it('treats an injection string as a key like any other value: no rows, tables intact', async () => {
    const response = await get(`/api/windows/users?version=v1&key=${encodeURIComponent("Kim' OR '1'='1")}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ rows: [] });
    expect(
      (await get('/api/windows/users?version=v1&key=Kim&limit=5'))
        .json<{ rows: { key: string }[] }>()
        .rows.every((row) => row.key === 'Kim'),
    ).toBe(true);
  });

  it('ranks the top users over a time range', async () => {
    const response = await get('/api/top/users?version=v1&n=2');
    expect(response.statusCode).toBe(200);
    const users = response.json<{ users: { user_name: string; count: number }[] }>().users;
    expect(users).toHaveLength(2);
    expect(users.map((user) => user.user_name)).toContain('Kim');
    expect(users[0]?.count).toBeGreaterThanOrEqual(users[1]?.count ?? 0);
    const all = (await get('/api/top/users?version=v1&n=1000')).json<{
      users: { user_name: string; count: number }[];
    }>().users;
    const fromTable = [...(await tablesOf('v1')).rows]
      .filter(([key]) => key.includes('|user|'))
      .reduce((sum, [, count]) => sum + count, 0);
    expect(all.reduce((sum, user) => sum + user.count, 0)).toBe(fromTable);
    const empty = await get('/api/top/users?version=v1&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z');
    expect(empty.json()).toMatchObject({ users: [] });
  });

  // Its own timeout: up to 240 polls of 500 ms while v2 replays the log from offset 0 (slow on a loaded machine).
  it('counts each event once in the top users of a hopping version (only windows aligned to the size)', async () => {
    const stop2 = new AbortController();
    const hopping = runAggregate({
      ...aggregateOptions({ window: 10_000, slide: 5_000, watermarkDelay: 15_000 }, 'v2'),
      signal: stop2.signal,
    });
    try {
      const v1 = (await get('/api/top/users?version=v1&n=1000')).json<{
        users: { user_name: string; count: number }[];
      }>().users;
      // v2's windows starting at multiples of 10 s are v1's windows, with the same watermark.
      const expected = Object.fromEntries(v1.map((user) => [user.user_name, user.count]));
      let got: Record<string, number> = {};
      for (let attempt = 0; attempt < 240; attempt += 1) {
        const response = await get('/api/top/users?version=v2&n=1000');
        if (response.statusCode === 200)
          got = Object.fromEntries(
            response
              .json<{ users: { user_name: string; count: number }[] }>()
              .users.map((user) => [user.user_name, user.count]),
          );
        if (JSON.stringify(got) === JSON.stringify(expected)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(got).toEqual(expected);
      // Summing every window would have counted each event twice.
      const all = [...(await tablesOf('v2')).rows]
        .filter(([key]) => key.includes('|user|'))
        .reduce((sum, [, count]) => sum + count, 0);
      expect(all).toBeGreaterThan(v1.reduce((sum, user) => sum + user.count, 0) * 1.5);
    } finally {
      stop2.abort();
      await hopping;
    }
  }, 180_000);

  it('a request that starts after a switch returned sees the new version, while identical requests share reads', async () => {
    const dims = ['user', 'dept', 'age'] as const;
    const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
    const pool = createPool({ uri: context.mysqlUrl, timezone: 'Z', connectionLimit: 2 });
    await ensureVersionTables(connection, 'v7', dims);
    await connection.query(
      "INSERT INTO events_users_v7 (window_start, window_end, user_name, count) VALUES ('2026-11-22 11:00:00', '2026-11-22 11:00:10', 'Kim', 1)",
    );
    // The version the last switch that returned made serve; the generation is odd while a switch
    // runs and moves when one starts and when it returns.
    let serving = 'v1';
    let generation = 0;
    let running = true;
    const stale: string[] = [];
    let checked = 0;
    let requests = 0;
    const windowReads = async () =>
      Number(/^kappa_api_window_reads_total (\d+)$/m.exec((await get('/metrics')).body)?.[1] ?? Number.NaN);
    const readsBefore = await windowReads();
    const client = async () => {
      while (running) {
        const [expected, at] = [serving, generation];
        const response = await get('/api/windows/users?limit=100');
        requests += 1;
        const { version } = response.json<{ version: string }>();
        if (at % 2 === 1 || generation !== at) continue; // a switch ran meanwhile: either version is right
        checked += 1;
        if (version !== expected) stale.push(`switch to ${expected} had returned, got ${version}`);
      }
    };
    const clients = Array.from({ length: 16 }, client);
    // Progress is counted in checked responses, not in time: the same test on a slow machine.
    const CHECKS_PER_PHASE = 25;
    const checkedAtLeast = async (count: number) => {
      while (checked < count) await sleep(10);
    };
    try {
      for (const [from, to] of [
        ['v1', 'v7'],
        ['v7', 'v1'],
        ['v1', 'v7'],
        ['v7', 'v1'],
      ] as const) {
        await checkedAtLeast(checked + CHECKS_PER_PHASE);
        generation += 1;
        await switchReaders(pool, { version: to, dims }, { refusal: 'KAPPA_CUTOVER_REFUSED', expectedCurrent: from });
        serving = to;
        generation += 1;
      }
      await checkedAtLeast(checked + CHECKS_PER_PHASE);
    } finally {
      running = false;
      await Promise.all(clients);
      await connection.query('DROP TABLE IF EXISTS events_users_v7, events_depts_v7, events_ages_v7');
      await connection.end();
      await pool.end();
    }
    expect(stale).toEqual([]);
    // Identical concurrent requests share reads: fewer SQL reads than requests.
    const reads = (await windowReads()) - readsBefore;
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(requests);
  });

  it('a request that starts after a commit returned sees its rows, while unchanged rows are read once', async () => {
    // The sink's own commits (rows and commit_seq in one transaction) into a version read by name.
    const topic = env['KAPPA_TOPIC_STAGES'] ?? '';
    const settings = versionSettings({
      window: 10_000,
      slide: 10_000,
      watermarkDelay: 15_000,
      timeZone: 'UTC',
      topicStages: topic,
    });
    const sink = await MySqlSink.open(context.mysqlUrl, 'v6', topic);
    await sink.prepare({ version: 'v6', settings });
    const progress = [await sink.load(0), await sink.load(1)];
    const url = '/api/windows/users?version=v6&limit=100';
    const countNow = async () => {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(200);
      return (
        response.json<{ rows: { key: string; count: number }[] }>().rows.find((row) => row.key === 'Kim')?.count ?? 0
      );
    };
    const windowReads = async () =>
      Number(/^kappa_api_window_reads_total (\d+)$/m.exec((await get('/metrics')).body)?.[1] ?? Number.NaN);
    let committed = 0;
    let running = true;
    const stale: string[] = [];
    let checked = 0;
    const client = async () => {
      while (running) {
        const before = committed;
        const count = await countNow();
        checked += 1;
        if (count < before) stale.push(`${before} commits had returned, the answer counted ${count}`);
      }
    };
    const clients = Array.from({ length: 16 }, client);
    try {
      for (let commit = 0; commit < 20; commit += 1) {
        const partition = commit % 2;
        const from = progress[partition] ?? { nextOffset: 0n, seq: 0, badRecords: 0 };
        const ok = await sink.commit({
          partition,
          expected: { nextOffset: from.nextOffset, seq: from.seq },
          nextOffset: from.nextOffset + 1n,
          rows: [
            {
              windowStart: Date.UTC(2026, 10, 22, 11),
              windowEnd: Date.UTC(2026, 10, 22, 11, 0, 10),
              dim: 'user',
              key: 'Kim',
              count: 1,
            },
          ],
          snapshot: { maxEventTime: null, lateEvents: 0, lateWindows: 0, open: [] },
          lateEvents: 0,
          lateWindows: 0,
          badRecords: 0,
          watermark: null,
        });
        expect(ok).toBe(true);
        progress[partition] = { ...from, nextOffset: from.nextOffset + 1n, seq: from.seq + 1 };
        committed += 1;
        const at = checked;
        while (checked < at + 16) await sleep(5);
      }
    } finally {
      running = false;
      await Promise.all(clients);
      await sink.close();
    }
    expect(stale).toEqual([]);
    expect(await countNow()).toBe(20);
    // Nothing commits now: the rows are read at most once for many requests (each still asks the stamp).
    const readsBefore = await windowReads();
    for (let request = 0; request < 20; request += 1) expect(await countNow()).toBe(20);
    expect((await windowReads()) - readsBefore).toBeLessThanOrEqual(1);
  });

  it('refuses to start on a non-loopback address without an ingest token', async () => {
    await expect(startApi({ ...apiOptions(), host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'KAPPA_CONFIG_INVALID',
      setting: 'ingestToken',
    });
  });

  it('lists versions with state, settings, lag, watermark and late events', async () => {
    const versions = (await get('/api/versions')).json<{ versions: Record<string, unknown>[] }>().versions;
    // v2: the hopping version of the top-users test; v6: the commits test's.
    expect(versions.map((entry) => entry['version'])).toEqual(['v1', 'v2', 'v6']);
    expect(versions[0]).toMatchObject({
      version: 'v1',
      state: 'serving',
      serving: true,
      settings: { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 },
      lag: 0,
    });
    expect(versions[0]?.['lateEvents']).toBeGreaterThan(0);
  });

  it('reports health and readiness; readiness names what does not answer', async () => {
    expect((await get('/api/health')).json()).toMatchObject({ status: 'ok' });
    expect((await get('/api/ready')).json()).toEqual({
      ready: true,
      checks: { kafka: 'ok', registry: 'ok', mysql: 'ok' },
    });
    const broken = await startApi({ ...apiOptions(), registryUrl: 'http://127.0.0.1:9', port: 0 });
    try {
      const response = await broken.app.inject({ method: 'GET', url: '/api/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ ready: false, checks: { kafka: 'ok', mysql: 'ok' } });
      expect(response.json<{ checks: { registry: string } }>().checks.registry).not.toBe('ok');
    } finally {
      await broken.close();
    }
  });

  it('exposes Prometheus metrics: topic ends, lag, late events, watermark lag', async () => {
    const response = await get('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toMatch(
      new RegExp(`kappa_topic_end_offset\\{topic="${env['KAPPA_TOPIC_STAGES'] ?? ''}"\\} 3000`),
    );
    expect(response.body).toMatch(/kappa_version_late_events\{version="v1"\} [1-9]\d*/);
    expect(response.body).toMatch(/kappa_consumer_lag_records\{stage="aggregate",version="v1"\} 0/);
    expect(response.body).toMatch(/kappa_watermark_lag_seconds\{version="v1"\} \d/);
    expect(response.body).toContain('kappa_process_cpu_user_seconds_total');
    expect(response.body).toMatch(/kappa_http_ingested_events_total \d/);
  });

  it('serves the OpenAPI document generated from the route schemas, and its UI at /docs', async () => {
    const spec = (await get('/docs/json')).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/windows/{dim}',
        '/api/top/users',
        '/api/versions',
        '/api/cutover',
        '/api/rollback',
        '/api/health',
        '/api/ready',
        '/api/events',
        '/metrics',
      ]),
    );
    expect((await get('/docs')).statusCode).toBeLessThan(400);
  });

  it('serves the dashboard and its assets from this process (no CDN)', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('/assets/uPlot.iife.min.js');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect((await get('/assets/uPlot.iife.min.js')).body).toContain('uPlot');
    expect((await get('/assets/dashboard.js')).statusCode).toBe(200);
    expect((await get('/assets/..%2Fapp.ts')).statusCode).toBe(400);
  });

  it('ingests a batch over HTTP: ids assigned by kappa, records in the events topic marked as written by the API', async () => {
    const response = await post('/api/events', {
      events: [{ hello: 'a' }, { hello: 'b', time: '2026-11-24 09:00:00' }, {}],
    });
    expect(response.statusCode, response.body).toBe(202);
    const { firstId, lastId, accepted } = response.json<{ firstId: number; lastId: number; accepted: number }>();
    expect([accepted, lastId - firstId]).toEqual([3, 2]);
    const messages = await readTopic(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '');
    expect(messages.map((message) => Number(message.key)).sort((a, b) => a - b)).toEqual([
      firstId,
      firstId + 1,
      firstId + 2,
    ]);
    expect(messages.every((message) => message.headers?.['kappa.writer']?.toString() === 'api')).toBe(true);
  });

  it.each([
    ['no events field', {}, 'events'],
    ['an empty batch', { events: [] }, 'events'],
    ['an id', { events: [{ id: 5 }] }, 'events[0].id'],
    ['a wrongly typed field', { events: [{ hello: 'ok' }, { hello: 42 }] }, 'events[1].hello'],
    ['an unknown field', { events: [{ hello: 'ok', colour: 'red' }] }, 'events[0].colour'],
    ['a malformed time', { events: [{ time: '24/11/2026' }] }, 'events[0].time'],
    ['an impossible date', { events: [{ time: '2026-02-30 10:00:00' }] }, 'events[0].time'],
    ['month 13', { events: [{ time: '2026-13-01 10:00:00' }] }, 'events[0].time'],
    ['hour 24', { events: [{ time: '2026-11-22 24:00:00' }] }, 'events[0].time'],
    ['a year before 1000', { events: [{}, { time: '0050-01-01 10:00:00' }] }, 'events[1].time'],
    ['too many events', { events: Array.from({ length: 1_001 }, () => ({})) }, 'events'],
    ['an unknown top-level field', { events: [{}], extra: true }, 'extra'],
  ])('refuses a batch with %s: 400 naming the field, nothing written', async (_label, body, field) => {
    const response = await post('/api/events', body);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400, field });
  });

  it('refuses a body over the size limit with 413', async () => {
    const response = await post('/api/events', { events: [{ hello: 'x'.repeat(1_100_000) }] });
    expect(response.statusCode).toBe(413);
  });

  it('never gives an id twice when the generator and HTTP ingest write at once', { timeout: 120_000 }, async () => {
    const before = (await readTopic(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '')).length;
    const generator = spawn(process.execPath, [KAPPA_BIN, 'ingest', '--count', '3000', '--rate', '1500'], {
      env: cleanEnv({ ...env, KAPPA_LOG_LEVEL: 'warn' }),
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => generator.once('exit', resolve));
    let posted = 0;
    for (let batch = 0; batch < 20; batch += 1) {
      const response = await post('/api/events', {
        events: Array.from({ length: 10 }, (_, index) => ({ hello: `http-${batch}-${index}` })),
      });
      expect(response.statusCode, response.body).toBe(202);
      posted += 10;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await exited).toBe(0);
    const messages = await readTopic(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '');
    const ids = messages.map((message) => Number(message.key));
    expect(ids).toHaveLength(before + 3_000 + posted);
    expect(new Set(ids).size).toBe(ids.length);
  });

  function aggregateOptions(window = { window: 10_000, slide: 10_000, watermarkDelay: 15_000 }, version = 'v1') {
    const settings = versionSettings({
      ...window,
      timeZone: 'Asia/Seoul',
      topicStages: env['KAPPA_TOPIC_STAGES'] ?? '',
    });
    return {
      kafka: createKafka({ brokers: context.brokers, logger: context.logger }),
      registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
      mysqlUrl: context.mysqlUrl,
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: new URL('../schemas', import.meta.url).pathname,
      version,
      settings,
      // As `kappa aggregate` composes it (cli/job-options.ts): the first version to commit rows serves.
      afterRowsCommitted: serveFirstToCommit(context.mysqlUrl, { version, dims: settings.dims }),
      logger: context.logger,
    };
  }

  function apiOptions() {
    return {
      brokers: context.brokers,
      registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
      mysqlUrl: context.mysqlUrl,
      topicEvents: env['KAPPA_TOPIC_EVENTS'] ?? '',
      topicStages: env['KAPPA_TOPIC_STAGES'] ?? '',
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: new URL('../schemas', import.meta.url).pathname,
      timeZone: 'Asia/Seoul',
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      logger: context.logger,
    };
  }
});
