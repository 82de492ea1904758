import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import type { VersionDiff } from '../src/recovery/operations.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { startApi } from '../src/api/server.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { cleanEnv, KAPPA_BIN, kappaAsync, type CliResult } from './support/cli.js';
import { testKafka } from './support/context.js';
import { logEntry } from './support/logs.js';
import { readAtLeast } from './support/read-topic.js';

const { context, pipeline, background, referenceFromEvents, tablesOf } = useAggregateHarness('recovery');

const N = 3_000;

async function run(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return kappaAsync(args, env, 180_000);
}

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await run(args, env);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function status(env: Record<string, string>): Promise<Map<string, VersionStatus>> {
  const statuses = JSON.parse(await ok(['status', '--json'], env)) as VersionStatus[];
  return new Map(statuses.map((entry) => [entry.version, entry]));
}

/** Waits until a running version has consumed at least `records` records and has no lag. */
async function caughtUp(
  env: Record<string, string>,
  version: string,
  records: number,
  timeoutMs = 90_000,
): Promise<VersionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entry = (await status(env)).get(version);
    if (entry !== undefined && entry.lag === 0 && entry.processed >= records) return entry;
    if (Date.now() > deadline) throw new Error(`${version} did not catch up: ${JSON.stringify(entry)}`);
    await sleep(500);
  }
}

/** A version's table (or a view) as `${windowStart}|${key}` → count. */
async function rows(table: string, column: string): Promise<Map<string, number>> {
  const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
  try {
    const [result] = await connection.query(`SELECT window_start, ${column} AS k, count FROM ${table}`);
    return new Map(
      (result as { window_start: Date; k: string | number; count: string | number }[]).map((row) => [
        `${row.window_start.getTime()}|${row.k}`,
        Number(row.count),
      ]),
    );
  } finally {
    await connection.end();
  }
}

const FLUSH = 20;

/**
 * Events far in the future, once everything else is enriched: in every events_stages partition
 * (20 user ids cover the three) the watermark then passes every earlier window, for any watermark
 * up to minutes; they stay in their own open window, so the totals hold exactly the earlier events.
 */
async function flush(env: Record<string, string>, firstId = 1_000_000): Promise<void> {
  const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
  const registry = new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' });
  const schemaId = await registry.getLatestSchemaId(`${events}-value`);
  const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const at = Date.now() + 10 * 60_000;
  const messages = await Promise.all(
    Array.from({ length: FLUSH }, async (_, offset) => {
      const id = firstId + offset;
      const value = await registry.encode(schemaId, {
        id,
        hello: 'flush',
        time: formatEventTime(at, 'Asia/Seoul'),
        event_ts: at,
      });
      return { key: String(id), value, partition: id % 3 };
    }),
  );
  await producer.send({ topic: events, messages });
  await producer.disconnect();
}

/** Sum of a topic's end offsets (the events topic is not transactional: its record count). */
async function recordCount(topic: string): Promise<number> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, entry) => sum + Number(entry.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** What the API, the pointer and the views say serves, read back right after a command returned. */
/** Waits until `version` serves and has consumed at least `records` records. */
async function servingOnce(env: Record<string, string>, version: string, records: number): Promise<VersionStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const entry = (await status(env)).get(version);
    if (entry?.serving === true && entry.processed >= records) {
      expect(entry.state).toBe('serving');
      return entry;
    }
    if (Date.now() > deadline) throw new Error(`${version} does not serve: ${JSON.stringify(entry)}`);
    await sleep(500);
  }
}

async function servingEverywhere(env: Record<string, string>, api: Awaited<ReturnType<typeof startApi>>) {
  const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
  try {
    const [pointer] = await connection.query('SELECT version FROM kappa_serving_version');
    const fromApi = (await api.app.inject({ method: 'GET', url: '/api/windows/users?limit=1' })).json<{
      version: string;
    }>().version;
    const statuses = await status(env);
    return {
      pointer: (pointer as { version: string }[])[0]?.version,
      api: fromApi,
      status: [...statuses.values()].filter((entry) => entry.serving).map((entry) => entry.version),
    };
  } finally {
    await connection.end();
  }
}

describe('recovery, command by command: aggregate v1, recover v2 on a live log, diff, cutover, rollback', () => {
  it('tells the whole story', { timeout: 900_000 }, async () => {
    const env = pipeline('story');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
    background(['enrich'], env, 'enrich');
    background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'aggregate-v1');
    await ok(['ingest', '--count', String(N), '--rate', '0', '--late-fraction', '0.05', '--late-by', '30s'], env);
    await readAtLeast(testKafka(context), stages, N, 0);
    const api = await startApi({
      brokers: context.brokers,
      registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
      mysqlUrl: context.mysqlUrl,
      topicEvents: events,
      topicStages: stages,
      topicPartitions: 3,
      topicReplicationFactor: 1,
      schemasDir: new URL('../schemas', import.meta.url).pathname,
      timeZone: 'Asia/Seoul',
      host: '127.0.0.1',
      port: 0,
      token: 'story-token-0123456789abcdef',
      logger: context.logger,
    });
    try {
      // 1. The first version that commits rows serves: views, pointer, status and API agree. (A live
      // generator moves event time on, so windows close and rows appear.)
      const live = background(['ingest', '--rate', '100'], env, 'live-generator');
      const liveExited = new Promise((resolve) => live.once('exit', resolve));
      const v1 = await servingOnce(env, 'v1', N);
      expect(v1.lateEvents).toBeGreaterThan(0);
      expect(await servingEverywhere(env, api)).toEqual({ pointer: 'v1', api: 'v1', status: ['v1'] });

      // 2. recover --until-caught-up with the generator still running: it ends at the end offsets seen when it started.
      const recovered = await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
      expect(recovered).toMatch(/recover v2: (caught up|backlog done)/);
      expect(live.exitCode).toBeNull();
      const afterBacklog = (await status(env)).get('v2');
      expect(afterBacklog?.processed).toBeGreaterThanOrEqual(N);
      expect(['caught-up', 'backlog-done']).toContain(afterBacklog?.state);

      // 3. diff compares like with like even while v1 runs ahead on live data: windows not closed in
      // both are reported apart, never as rows only in v1 or a negative change.
      const early = JSON.parse(await ok(['diff', 'v1', 'v2', '--json'], env)) as VersionDiff;
      for (const table of Object.values(early.tables)) {
        expect(table.onlyFrom).toEqual([]);
        expect(table.totalTo).toBeGreaterThanOrEqual(table.totalFrom);
        expect(table.differing.every((row) => row.to > row.from)).toBe(true);
      }
      // v1 (live, watermark 15 s) has rows of the last minute's windows; v2 (60 s, stopped) has not closed them.
      expect(early.tables.user?.notClosedTo).toBeGreaterThan(0);
      expect(await ok(['diff', 'v1', 'v2'], env)).toMatch(/not yet closed in v2: \d+ windows/);

      // 4. The generator stops; far-future events close every real window in both versions.
      live.kill('SIGINT');
      await liveExited;
      await flush(env);
      const total = await recordCount(events);
      await readAtLeast(testKafka(context), stages, total, 0);
      const v1Final = await caughtUp(env, 'v1', total);

      // 5. v2 stopped before the flush, v1 has consumed it: a cutover to v2 is refused, with real
      // offsets from MySQL and Kafka, and the refusal says that nothing feeds v2 and what to run.
      const behind = await run(['cutover', '--to', 'v2'], env);
      expect(behind.code, behind.stderr).toBe(1);
      expect(behind.stderr).toMatch(
        new RegExp(
          `cutover to v2 refused: v2 has not caught up with v1: partition \\d of ${stages} is at offset \\d+, v1 at \\d+; ` +
            `nothing feeds v2 \\(its consumer group kappa-aggregate\\.${stages}\\.v2 has no members\\): resume it with ` +
            `\`kappa aggregate --version v2 --stages-topic ${stages} --window 10s --slide 10s --watermark 1m --dims user,dept,age\`.*` +
            `\`kappa recover --to v2 --stages-topic ${stages} .* --cutover\`.*\\[KAPPA_CUTOVER_REFUSED\\]`,
        ),
      );
      expect((await servingEverywhere(env, api)).pointer).toBe('v1');

      // --wait: the cutover waits while v2 is behind, recovery feeds it, and it switches once v2 has caught up.
      const waiting = spawn(process.execPath, [KAPPA_BIN, 'cutover', '--to', 'v2', '--wait', '5m'], {
        env: cleanEnv(env),
      });
      let waitingOut = '';
      let waitingErr = '';
      waiting.stdout.on('data', (chunk: Buffer) => (waitingOut += chunk.toString()));
      waiting.stderr.on('data', (chunk: Buffer) => (waitingErr += chunk.toString()));
      const waited = new Promise<number | null>((resolve) => waiting.once('exit', resolve));
      try {
        while (!waitingOut.includes('waiting up to 5m for v2 to catch up: v2 has not caught up with v1')) {
          expect(waiting.exitCode, waitingErr).toBeNull();
          await sleep(200);
        }
        const again = await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
        expect(again).toMatch(/recover v2: (caught up|backlog done)/);
        expect(await waited, waitingErr).toBe(0);
      } finally {
        waiting.kill('SIGKILL');
      }
      expect(waitingOut).toContain('cutover: readers now see v2 (was v1');
      expect(await servingEverywhere(env, api)).toEqual({ pointer: 'v2', api: 'v2', status: ['v2'] });
      expect((await status(env)).get('v2')).toMatchObject({ state: 'serving', lag: 0, lateEvents: 0 });
      // verify first (window digests): v2 differs from v1 exactly where it counted late events.
      const verified = await run(['verify', 'v1', 'v2'], env);
      expect(verified.code).toBe(1);
      expect(verified.stdout).toMatch(/verify v1 v2: [\d,]+ of [\d,]+ windows differ \(user, dept, age\)/);
      expect(verified.stdout).toContain('`kappa diff v1 v2` shows the differing rows');
      const diff = JSON.parse(await ok(['diff', 'v1', 'v2', '--json'], env)) as VersionDiff;
      expect(diff.lateRecovered).toBe(v1Final.lateEvents);
      const users = diff.tables.user;
      expect(users?.onlyFrom).toEqual([]);
      expect((users?.totalTo ?? 0) - (users?.totalFrom ?? 0)).toBe(v1Final.lateEvents);
      const text = await ok(['diff', 'v1', 'v2'], env);
      expect(text).toContain(`${v1Final.lateEvents} recovered`);
      expect(text).not.toMatch(/\(-/);

      // 6. The cutover switched views, pointer, status and the API together.
      expect(await ok(['cutover', '--to', 'v2'], env)).toContain('v2 already serves');
      expect(await rows('events_users', 'user_name')).toEqual(await rows('events_users_v2', 'user_name'));
      expect(await rows('events_ages', 'age')).toEqual(await rows('events_ages_v2', 'age'));
      let versions = await status(env);
      expect([versions.get('v1')?.state, versions.get('v2')?.state]).toEqual(['retired', 'serving']);
      expect(await ok(['status'], env)).toMatch(/\*v2 +serving/);

      // 7. rollback: back to v1, everywhere at once.
      expect(await ok(['rollback'], env)).toContain('readers now see v1 (was v2)');
      expect(await servingEverywhere(env, api)).toEqual({ pointer: 'v1', api: 'v1', status: ['v1'] });
      expect(await rows('events_users', 'user_name')).toEqual(await rows('events_users_v1', 'user_name'));
      versions = await status(env);
      expect([versions.get('v1')?.state, versions.get('v2')?.state]).toEqual(['serving', 'retired']);

      // 8. A version lacking a dimension whose view exists never serves.
      await ok(['recover', '--to', 'v5', '--dims', 'user', '--until-caught-up'], env);
      const narrow = await run(['cutover', '--to', 'v5'], env);
      expect(narrow.code).toBe(1);
      expect(narrow.stderr).toMatch(/v5 has no dept, age tables?.*\[KAPPA_CUTOVER_REFUSED\]/);
      expect((await servingEverywhere(env, api)).pointer).toBe('v1');

      // Recovery never writes into the serving version.
      const refused = await run(['recover', '--to', 'v1', '--until-caught-up'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('KAPPA_RECOVER_REFUSED');

      // Determinism: the same settings as v1, replayed, give v1's tables exactly.
      await ok(['recover', '--to', 'v3', '--watermark', '15s', '--until-caught-up'], env);
      expect(await ok(['verify', 'v1', 'v3'], env)).toMatch(/verify v1 v3: identical over [1-9][\d,]* windows/);
      for (const [table, column] of [
        ['events_users', 'user_name'],
        ['events_depts', 'dept_name'],
        ['events_ages', 'age'],
      ] as const) {
        expect(await rows(`${table}_v3`, column)).toEqual(await rows(`${table}_v1`, column));
      }

      // Full chain: enrich the raw topic again into a new stages topic and aggregate that as v4 with
      // v1's settings. Enrichment preserves each events partition's order (SPEC §1.2), so the new
      // stages log decides lateness exactly as v1's did: v4 equals v1 row for row, and both equal the
      // reference model over the events log.
      // The re-enrichment runs with the enrichment's settings (it once ran with its defaults).
      const fullChain = await run(
        ['recover', '--from', events, '--stages-topic', `${stages}-v4`, '--to', 'v4', '--until-caught-up'],
        { ...env, KAPPA_ENRICH_TRANSACTION_RECORDS: '777', KAPPA_LOG_LEVEL: 'info' },
      );
      expect(fullChain.code, fullChain.stderr).toBe(0);
      expect(logEntry(fullChain.stderr, 'enrichment running')).toMatchObject({
        transactions: { maxMs: 1_000, maxRecords: 777 },
      });
      expect((await status(env)).get('v4')).toMatchObject({ topic: `${stages}-v4`, lag: 0 });
      expect(await ok(['verify', 'v1', 'v4'], env)).toMatch(/verify v1 v4: identical over [1-9][\d,]* windows/);
      const v4 = await tablesOf('v4');
      expect(v4).toEqual(await tablesOf('v1'));
      expect(v4).toEqual(await referenceFromEvents(events));
    } finally {
      await api.close();
    }
  });
});
