import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import type { RowExplanation } from '../src/recovery/explain.js';
import type { ExplainedDiff } from '../src/recovery/explain-versions.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync, kappaOk, versionStatuses, type CliResult } from './support/cli.js';
import { testKafka } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';

const { context, pipeline, background } = useAggregateHarness('explain');

const N = 2_000;

function run(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return kappaAsync(args, env, 240_000);
}

const ok = kappaOk;
const status = versionStatuses;

async function caughtUp(env: Record<string, string>, version: string, records: number): Promise<VersionStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const entry = (await status(env)).get(version);
    if (entry !== undefined && entry.lag === 0 && entry.processed >= records) return entry;
    if (Date.now() > deadline) throw new Error(`${version} did not catch up: ${JSON.stringify(entry)}`);
    await sleep(500);
  }
}

/** Far-future events in every partition: every real window closes in every version (watermarks up to minutes). */
async function flush(env: Record<string, string>): Promise<void> {
  const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
  const registry = new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' });
  const schemaId = await registry.getLatestSchemaId(`${events}-value`);
  const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const at = Date.now() + 10 * 60_000;
  const messages = await Promise.all(
    Array.from({ length: 20 }, async (_, index) => {
      const id = 1_000_000 + index;
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

async function recordCount(topic: string): Promise<number> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, entry) => sum + Number(entry.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every row of the diff is explained exactly: the events' net number is the row's delta. */
function expectExact(rows: readonly RowExplanation[]): void {
  for (const row of rows) {
    expect(row.exact, row.problem).toBe(true);
    const added = row.events.filter((event) => event.countedBy === row.to).length;
    expect(added - (row.events.length - added), JSON.stringify(row)).toBe(row.countTo - row.countFrom);
  }
}

describe('explain: every differing row, event by event', () => {
  it(
    'explains a watermark change exactly, gates a cutover on it, and catches an enrichment change',
    { timeout: 900_000 },
    async () => {
      const env = pipeline('explain');
      const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      background(['enrich'], env, 'enrich');
      background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');
      await ok(['ingest', '--count', String(N), '--rate', '0', '--late-fraction', '0.05', '--late-by', '30s'], env);
      await flush(env);
      const total = await recordCount(events);
      await readAtLeast(testKafka(context), stages, total, 0);
      const v1 = await caughtUp(env, 'v1', total);
      expect(v1.lateEvents).toBeGreaterThan(0);

      // A watermark-only v2: every differing row is explained by lateness, event for event.
      await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
      const explained = JSON.parse(await ok(['diff', 'v1', 'v2', '--explain', '--json'], env)) as ExplainedDiff;
      const users = explained.diff.tables.user;
      // Rows that differ or exist in v2 only (a window holding only late events has no v1 row): which
      // of the two depends on how fast the generator ran, not on the semantics.
      expect((users?.differing.length ?? 0) + (users?.onlyTo.length ?? 0)).toBeGreaterThan(0);
      expect(explained.rows.length).toBeGreaterThan(0);
      expectExact(explained.rows);
      for (const row of explained.rows) {
        expect(row.byLateness).toBe(true);
        expect(row.events).toHaveLength(row.countTo - row.countFrom);
      }
      // The late events recovered, reconciled with the row deltas: all windows are closed in both here.
      expect(explained.late).toEqual({
        recovered: v1.lateEvents,
        inClosedWindows: v1.lateEvents,
        inWindowsNotClosed: 0,
        lostInTo: 0,
      });
      const userDelta = (users?.totalTo ?? 0) - (users?.totalFrom ?? 0);
      const userEvents = explained.rows.filter((row) => row.dim === 'user').flatMap((row) => row.events);
      expect(userEvents).toHaveLength(userDelta);
      expect(await ok(['diff', 'v1', 'v2', '--explain'], env)).toContain(
        `late events recovered: ${v1.lateEvents} = ${v1.lateEvents} in windows closed in both`,
      );

      // One row, from the command line, as a user asks it.
      const row = explained.rows.find((entry) => entry.dim === 'user') as RowExplanation;
      const text = await ok(['explain', 'v1', 'v2', 'users', row.key, new Date(row.windowStart).toISOString()], env);
      expect(text).toContain(`user ${JSON.stringify(row.key)}`);
      expect(text).toMatch(
        /counted in v2; late in v1 \(p\d+@\d+\): its watermark .* \(set by p\d+@\d+\) was .* past the window's end/,
      );
      expect(text.trim().split('\n')).toHaveLength(1 + row.events.length);
      const single = JSON.parse(
        await ok(['explain', 'v1', 'v2', 'users', row.key, new Date(row.windowStart).toISOString(), '--json'], env),
      ) as RowExplanation;
      expect(single).toEqual(row);

      // The gate passes a watermark-only version.
      const passed = await ok(['cutover', '--to', 'v2', '--require-explained'], env);
      expect(passed).toContain('is explained by lateness');
      expect(passed).toContain('readers now see v2');
      await ok(['rollback'], env);

      // A full-chain replay with another names file: uid 0 is someone else now. Same event ids,
      // another key: the gate refuses and explain says so.
      const dir = mkdtempSync(join(tmpdir(), 'kappa-explain-names-'));
      const names = join(dir, 'names.jsonl');
      const shipped = readFileSync(new URL('../data/names.jsonl', import.meta.url), 'utf8');
      writeFileSync(names, shipped.replace('"name":"Kim Minjun"', '"name":"Choi Yuna"'));
      const renamed = { ...env, KAPPA_NAMES_FILE: names };
      await ok(
        ['recover', '--from', events, '--stages-topic', `${stages}-v3`, '--to', 'v3', '--until-caught-up'],
        renamed,
      );
      const refused = await run(['cutover', '--to', 'v3', '--require-explained'], env);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('KAPPA_CUTOVER_UNEXPLAINED');
      expect(refused.stderr).toMatch(/the enrichment differs/);
      expect((await status(env)).get('v1')?.serving).toBe(true);

      const enrichment = JSON.parse(await ok(['diff', 'v1', 'v3', '--explain', '--json'], env)) as ExplainedDiff;
      expectExact(enrichment.rows);
      const kim = enrichment.rows.find((entry) => entry.dim === 'user' && entry.key === 'Kim Minjun');
      expect(kim).toBeDefined();
      expect(kim?.events.length).toBe(kim?.countFrom);
      for (const event of kim?.events ?? []) {
        expect(event.countedBy).toBe('v1');
        expect(event.why).toMatchObject({ kind: 'other-key', version: 'v3', key: 'Choi Yuna' });
      }
      const why = await ok(
        ['explain', 'v1', 'v3', 'users', 'Kim Minjun', new Date(kim?.windowStart ?? 0).toISOString()],
        env,
      );
      expect(why).toContain('v3 has the same event id');
      expect(why).toContain('under "Choi Yuna"');
      // Without the flag, cutover behaves as before.
      expect(await ok(['cutover', '--to', 'v3'], env)).toContain('readers now see v3');
    },
  );
});
