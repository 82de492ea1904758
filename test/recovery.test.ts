import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import type { VersionDiff } from '../src/recovery/operations.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync, type CliResult } from './support/cli.js';
import { testKafka } from './support/context.js';
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

const total = (table: Map<string, number>) => [...table.values()].reduce((sum, count) => sum + count, 0);

const FLUSH = 20;

/**
 * Events far in the future, once everything else is enriched: in every events_stages partition
 * (20 user ids cover the three) the watermark then passes every earlier window, for any watermark
 * up to minutes; they stay in their own open window, so the totals hold exactly the earlier events.
 */
async function flush(env: Record<string, string>, firstId: number): Promise<void> {
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

describe('recovery: replay into v2 with a longer watermark, diff, cutover, rollback (real broker, MariaDB)', () => {
  it('tells the whole story', { timeout: 420_000 }, async () => {
    const env = pipeline('story');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    background(['enrich'], env, 'enrich');
    background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'aggregate-v1');
    await ok(['ingest', '--count', String(N), '--rate', '0', '--late-fraction', '0.05', '--late-by', '30s'], env);
    await readAtLeast(testKafka(context), stages, N, 0);
    await flush(env, N);
    await readAtLeast(testKafka(context), stages, N + FLUSH, 0);

    // v1 (watermark 15 s) misses the late events and says so.
    const v1 = await caughtUp(env, 'v1', N + FLUSH);
    expect(v1.lateEvents).toBeGreaterThan(0);
    const v1Users = await rows('events_users_v1', 'user_name');
    expect(total(v1Users)).toBe(N - v1.lateEvents);

    // Nothing serves yet, and v2 does not exist: refused.
    const early = await run(['cutover', '--to', 'v2'], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('KAPPA_VERSION_UNKNOWN');

    // v2 (watermark 60 s) replays from offset 0 and counts every event.
    const recovered = await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
    expect(recovered).toContain('recover v2: caught up');
    const v2Users = await rows('events_users_v2', 'user_name');
    expect(total(v2Users)).toBe(N);
    expect((await status(env)).get('v2')).toMatchObject({ state: 'caught-up', lateEvents: 0, lag: 0 });

    // diff reports exactly the late events recovered.
    const diff = JSON.parse(await ok(['diff', 'v1', 'v2', '--json'], env)) as VersionDiff;
    expect(diff.lateRecovered).toBe(v1.lateEvents);
    expect(diff.lateTo).toBe(0);
    expect((diff.tables.user?.totalTo ?? 0) - (diff.tables.user?.totalFrom ?? 0)).toBe(v1.lateEvents);
    expect(await ok(['diff', 'v1', 'v2'], env)).toContain(`${v1.lateEvents} recovered`);

    // Determinism: the same settings as v1, replayed, give v1's tables exactly.
    await ok(['recover', '--to', 'v3', '--watermark', '15s', '--until-caught-up'], env);
    for (const [table, column] of [
      ['events_users', 'user_name'],
      ['events_depts', 'dept_name'],
      ['events_ages', 'age'],
    ] as const) {
      expect(await rows(`${table}_v3`, column)).toEqual(await rows(`${table}_v1`, column));
    }

    // The first cutover: v1 has no lag, so it may serve.
    expect(await ok(['cutover', '--to', 'v1'], env)).toContain('readers now see v1');
    expect(await rows('events_users', 'user_name')).toEqual(await rows('events_users_v1', 'user_name'));

    // More events: v1 (running) moves on, v2 (stopped) falls behind — the cutover is refused.
    await ok(['ingest', '--count', '300', '--rate', '0'], env);
    await readAtLeast(testKafka(context), stages, N + FLUSH + 300, 0);
    await caughtUp(env, 'v1', N + FLUSH + 300);
    const refused = await run(['cutover', '--to', 'v2'], env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(
      /cutover to v2 refused: v2 has not caught up with v1: partition \d of .* is at offset \d+, v1 at \d+ \[KAPPA_CUTOVER_REFUSED\]/,
    );

    // v2 resumes from its own progress, catches up, and takes over.
    await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
    expect(await ok(['cutover', '--to', 'v2'], env)).toContain('readers now see v2 (was v1');
    expect(await rows('events_users', 'user_name')).toEqual(await rows('events_users_v2', 'user_name'));
    expect(await rows('events_ages', 'age')).toEqual(await rows('events_ages_v2', 'age'));
    let versions = await status(env);
    expect([versions.get('v1')?.state, versions.get('v2')?.state, versions.get('v2')?.serving]).toEqual([
      'retired',
      'serving',
      true,
    ]);
    expect(await ok(['status'], env)).toMatch(/\*v2 +serving/);

    // Rollback restores v1.
    expect(await ok(['rollback'], env)).toContain('readers now see v1 (was v2)');
    expect(await rows('events_users', 'user_name')).toEqual(await rows('events_users_v1', 'user_name'));
    versions = await status(env);
    expect([versions.get('v1')?.state, versions.get('v1')?.serving, versions.get('v2')?.state]).toEqual([
      'serving',
      true,
      'retired',
    ]);

    // Recovery never writes into the serving version.
    const live = await run(['recover', '--to', 'v1', '--until-caught-up'], env);
    expect(live.code).toBe(1);
    expect(live.stderr).toContain('KAPPA_RECOVER_REFUSED');

    // Full chain: enrich the raw topic again into a new stages topic and aggregate that as v4 with
    // v1's settings. Enrichment preserves each events partition's order (SPEC §1.2), so the new
    // stages log decides lateness exactly as v1's did: v4 equals v1 row for row, and both equal the
    // reference model over the events log.
    await ok(
      [
        'recover',
        '--from',
        env['KAPPA_TOPIC_EVENTS'] ?? '',
        '--stages-topic',
        `${stages}-v4`,
        '--to',
        'v4',
        '--until-caught-up',
      ],
      env,
    );
    expect((await status(env)).get('v4')).toMatchObject({ topic: `${stages}-v4`, lag: 0 });
    const v4 = await tablesOf('v4');
    expect(v4).toEqual(await tablesOf('v1'));
    expect(v4).toEqual(await referenceFromEvents(env['KAPPA_TOPIC_EVENTS'] ?? ''));
  });
});
