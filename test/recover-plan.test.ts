import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { Partitioners } from '../src/kafka/kafkajs.js';
import type { VersionDiff, VersionStatus } from '../src/recovery/operations.js';
import type { ReplayPlan } from '../src/recovery/replay-plan.js';
import { Catalog } from '../src/recovery/catalog.js';
import { preflightSchemas, type SchemaIdReport } from '../src/recovery/schema-preflight.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import { formatEventTime } from '../src/shared/event-time.js';
import { enrich } from '../src/stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../src/stages/enrich/sample-tables.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync, type CliResult } from './support/cli.js';
import { testKafka } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const { context, pipeline, produceStages } = useAggregateHarness('recover-plan');

const run = (args: readonly string[], env: Record<string, string>): Promise<CliResult> =>
  kappaAsync(args, { ...env, KAPPA_LOG_LEVEL: 'warn' }, 300_000);

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await run(args, env);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function status(env: Record<string, string>): Promise<Map<string, VersionStatus>> {
  const statuses = JSON.parse(await ok(['status', '--json'], env)) as VersionStatus[];
  return new Map(statuses.map((entry) => [entry.version, entry]));
}

const countRows = async (table: string) =>
  Number((await sqlRows<{ n: number }>(context.mysqlUrl, `SELECT COUNT(*) AS n FROM ${table}`))[0]?.n ?? 0);

describe('kappa recover --plan: know before you replay', () => {
  it('predicts the replay exactly: records, rows, late events recovered', { timeout: 600_000 }, async () => {
    const env = pipeline('plan');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    const written = await produceStages(stages, 6_000, 11);
    await ok(['recover', '--to', 'v1', '--watermark', '15s', '--until-caught-up'], env);
    const v1 = (await status(env)).get('v1');
    expect(v1?.serving).toBe(true);
    expect(v1?.lateEvents).toBeGreaterThan(0);

    const text = await ok(['recover', '--to', 'v2', '--watermark', '60s', '--plan'], env);
    expect(text).toContain(`plan for v2 (nothing changed): ${written.toLocaleString('en-US')} records of ${stages}`);
    const plan = JSON.parse(
      await ok(['recover', '--to', 'v2', '--watermark', '60s', '--plan', '--json'], env),
    ) as ReplayPlan;
    // The plan changed nothing: no v2 in the catalogue.
    expect((await status(env)).has('v2')).toBe(false);
    expect(plan.records).toBe(written);
    expect(plan.partitions).toHaveLength(3);
    expect(plan.deadLetters).toBe(0);
    expect(plan.schemaIds).toHaveLength(1);
    expect(plan.late).toMatchObject({ servingVersion: 'v1', serving: v1?.lateEvents, servingAnalysed: v1?.lateEvents });

    const started = performance.now();
    await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);
    const actualSeconds = (performance.now() - started) / 1_000;
    const v2 = (await status(env)).get('v2');
    expect(v2?.lateEvents).toBe(plan.late.planned);
    const diff = JSON.parse(await ok(['diff', 'v1', 'v2', '--json'], env)) as VersionDiff;
    expect(diff.lateRecovered).toBe(plan.late.recovered);
    expect({
      user: await countRows('events_users_v2'),
      dept: await countRows('events_depts_v2'),
      age: await countRows('events_ages_v2'),
    }).toEqual(plan.rows);
    // Reported, not asserted: timing on a shared machine says nothing about correctness.
    process.stdout.write(
      `recover --plan estimated ${plan.estimate.seconds} s; the replay took ${actualSeconds.toFixed(1)} s (command start-up included)\n`,
    );
  });

  it(
    'preflight: names the schema ids the registry does not know, and refuses to replay them',
    { timeout: 600_000 },
    async () => {
      const env = pipeline('preflight');
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      const v1Records = await produceStages(stages, 300, 3);
      // A second writer schema (an optional field added: readable with the reader's v1) …
      const v1Schema = JSON.parse(
        readFileSync(new URL('../schemas/events_stages/v1.avsc', import.meta.url), 'utf8'),
      ) as { fields: unknown[] };
      const v2Schema = JSON.stringify({
        ...v1Schema,
        fields: [...v1Schema.fields, { name: 'note', type: ['null', 'string'], default: null }],
      });
      const { id: v2Id } = await new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' }).register(
        { type: SchemaType.AVRO, schema: v2Schema },
        { subject: `${stages}-value` },
      );
      const type = parseAvro(v2Schema);
      const at = Date.UTC(2026, 10, 22, 11, 10, 0);
      const v2Messages = Array.from({ length: 100 }, (_, index) => {
        const event = enrich(
          { id: 10_000 + index, hello: 'x', time: formatEventTime(at + index * 100, 'Asia/Seoul') },
          SAMPLE_TABLES,
        );
        return { key: String(event.user_id), value: encodeWithSchemaId(v2Id, type, { ...event, note: 'v2' }) };
      });
      // … and one record framed with an id no registry ever gave out.
      const unknown = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), Buffer.from('not a record')]);
      unknown.writeInt32BE(987_654, 1);
      const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: stages, messages: [...v2Messages, { key: '1', value: unknown }] });
      await producer.disconnect();

      const plan = JSON.parse(await ok(['recover', '--to', 'v7', '--plan', '--json'], env)) as ReplayPlan;
      const byId = new Map<number | null, SchemaIdReport>(plan.schemaIds.map((entry) => [entry.schemaId, entry]));
      expect(plan.schemaIds).toHaveLength(3);
      expect(byId.get(v2Id)).toMatchObject({ records: 100, resolves: true, readable: true, deadLetters: {} });
      expect([...byId.values()].find((entry) => entry.schemaId !== v2Id && entry.resolves)).toMatchObject({
        records: v1Records,
        readable: true,
        deadLetters: {},
      });
      expect(byId.get(987_654)).toMatchObject({
        records: 1,
        resolves: false,
        readable: false,
        deadLetters: { 'unknown-schema-id': 1 },
      });
      expect(plan.deadLetters).toBe(1);
      expect(await ok(['recover', '--to', 'v7', '--plan'], env)).toMatch(/id 987654: 1 records, NOT in the registry/);

      const refused = await run(['recover', '--to', 'v7', '--until-caught-up'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('KAPPA_RECOVER_PREFLIGHT');
      expect(refused.stderr).toContain('987654 (1 records)');
      expect((await status(env)).has('v7')).toBe(false);

      await ok(['recover', '--to', 'v7', '--until-caught-up', '--allow-dead-letters'], env);
      expect((await status(env)).get('v7')).toMatchObject({ badRecords: 1, lag: 0 });

      // v7 read the whole log and recorded, with its progress, its records by schema id: the next
      // preflight reads none of the log again, and refuses all the same, with the same counts.
      const catalog = await Catalog.open(env['KAPPA_MYSQL_URL'] ?? '');
      try {
        const known = await catalog.schemaCounts(stages);
        const total = v1Records + 101;
        expect([...known.values()].reduce((sum, { next }) => sum + Number(next), 0)).toBe(total);
        const source = {
          kafka: testKafka(context),
          registryUrl: env['KAPPA_REGISTRY_URL'] ?? '',
          schemasDir: fileURLToPath(new URL('../schemas', import.meta.url)),
        };
        const fromCounts = await preflightSchemas(source, stages, 'events_stages', known);
        const fromLog = await preflightSchemas(source, stages, 'events_stages');
        expect(fromCounts.scanned).toBe(0);
        expect(fromLog.scanned).toBe(total);
        const summary = (reports: readonly SchemaIdReport[]) =>
          reports.map(({ schemaId, records, resolves, readable }) => ({ schemaId, records, resolves, readable }));
        expect(summary(fromCounts.reports)).toEqual(summary(fromLog.reports));
      } finally {
        await catalog.close();
      }
      const again = await run(['recover', '--to', 'v8', '--until-caught-up'], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('987654 (1 records)');
    },
  );
});
