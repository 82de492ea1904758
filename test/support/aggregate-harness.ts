import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ensureTopics } from '../../src/kafka/ensure-topics.js';
import { Partitioners } from '../../src/kafka/kafkajs.js';
import { logTopic } from '../../src/kafka/topics.js';
import { MongoClient } from 'mongodb';
import { createConnection } from 'mysql2/promise';
import { expect } from 'vitest';
import type { KeyedEvent } from '../../src/aggregates/window-engine.js';
import type { WindowSettings } from '../../src/model/window-settings.js';
import { isLate } from '../../src/ingest/event-generator.js';
import { parseAvro } from '../../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../../src/registry/wire-format.js';
import { Temporal } from 'temporal-polyfill';
import { formatEventTime } from '../../src/shared/event-time.js';
import { enrich } from '../../src/stages/enrich/rules.js';
import { type EnrichedEvent } from '../../src/model/enriched-event.js';
import { SAMPLE_TABLES } from '../../src/stages/enrich/sample-tables.js';
import { cleanEnv, KAPPA_BIN } from './cli.js';
import { testKafka, useTestContext } from './context.js';
import { readAtLeast, readTopic, type TopicMessage } from './read-topic.js';
import { referenceModel, type ReferenceResult } from './reference-model.js';
import { useRegistryAndProcesses } from './registry.js';

/**
 * What the aggregator tests share: a registry, enriched events written straight into a stages
 * topic, the reference model computed from that log, and the tables read back from MySQL.
 */

/** What the reference model needs of an event: its time and its key in each dimension. */
interface ReferenceKeys {
  readonly time: string;
  readonly user: string;
  readonly dept: string;
  readonly age: number;
}

const stagesKeys = (decoded: unknown): ReferenceKeys => {
  const record = decoded as EnrichedEvent;
  return { time: record.time, user: record.user_name, dept: record.dept_name, age: record.age };
};

/** A `.jsonl` table read line by line: id → name. */
function jsonlTable(file: URL, idField: 'uid' | 'did'): Map<number, string> {
  const table = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    table.set(Number(row[idField]), String(row['name']));
  }
  return table;
}
export function useAggregateHarness(
  label: string,
  SETTINGS: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 },
  brokers?: () => readonly string[],
) {
  const context = useTestContext(label, brokers);
  const { registryUrl, track } = useRegistryAndProcesses(context);

  function pipeline(name: string): Record<string, string> {
    return {
      KAPPA_KAFKA_BROKERS: context.brokers.join(','),
      KAPPA_REGISTRY_URL: registryUrl(),
      KAPPA_MYSQL_URL: context.mysqlUrl,
      KAPPA_MONGODB_URL: context.mongodbUrl,
      KAPPA_TOPIC_EVENTS: context.topic(`${name}-events`),
      KAPPA_TOPIC_STAGES: context.topic(`${name}-stages`),
      KAPPA_STATE_DIR: mkdtempSync(join(tmpdir(), `kappa-aggregate-${name}-`)),
      KAPPA_TIME_ZONE: 'Asia/Seoul',
      KAPPA_LOG_LEVEL: 'info',
    };
  }

  function background(args: readonly string[], env: Record<string, string>, label: string): ChildProcess {
    const log = openSync(join(env['KAPPA_STATE_DIR'] ?? tmpdir(), `${label}.log`), 'a');
    return track(spawn(process.execPath, [KAPPA_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', log, log] }));
  }

  /**
   * The reference model over a log given as messages, partition by partition in log order. Event
   * times are read with Temporal, not kappa's parser ('compatible': SPEC §1.1's rule for skipped and
   * repeated local times).
   */
  async function referenceOf(
    messages: readonly TopicMessage[],
    toKeys: (decoded: unknown) => ReferenceKeys,
    closeEverything: boolean,
    settings: WindowSettings = SETTINGS,
  ): Promise<ReferenceResult> {
    const client = new SchemaRegistry({ host: registryUrl() });
    const partitions = new Map<number, { offset: bigint; event: KeyedEvent }[]>();
    for (const message of messages) {
      const record = toKeys(await client.decode(message.value));
      const time = Temporal.PlainDateTime.from(record.time.replace(' ', 'T')).toZonedDateTime('Asia/Seoul', {
        disambiguation: 'compatible',
      }).epochMilliseconds;
      const entry = {
        offset: message.offset,
        event: { time, keys: { user: record.user, dept: record.dept, age: String(record.age) } },
      };
      const list = partitions.get(message.partition) ?? [];
      list.push(entry);
      partitions.set(message.partition, list);
    }
    const ordered = [...partitions.values()].map((entries) =>
      entries.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((entry) => entry.event),
    );
    return referenceModel(ordered, settings, closeEverything);
  }

  /** The reference model over the actual events_stages log, partition by partition in log order. */
  async function referenceFromLog(
    stagesTopic: string,
    expected: number,
    closeEverything = false,
  ): Promise<ReferenceResult> {
    const messages = await readAtLeast(testKafka(context), stagesTopic, expected, 2_000);
    return referenceOf(messages, stagesKeys, closeEverything);
  }

  /**
   * The reference model over the part of a stages log a version consumed: the records before its
   * progress (`next` offset by partition), as if the log had ended there.
   */
  async function referenceFromLogUpTo(
    stagesTopic: string,
    next: ReadonlyMap<number, bigint>,
  ): Promise<ReferenceResult> {
    const messages = await readTopic(testKafka(context), stagesTopic);
    const consumed = messages.filter((message) => message.offset < (next.get(message.partition) ?? 0n));
    return referenceOf(consumed, stagesKeys, false);
  }

  /**
   * The reference model over the part of a stages log a version read from `from` (offset by
   * partition) on, as if the log had started there: a version whose progress began there.
   */
  async function referenceFromLogFrom(
    stagesTopic: string,
    from: ReadonlyMap<number, bigint>,
  ): Promise<ReferenceResult> {
    const messages = await readTopic(testKafka(context), stagesTopic);
    return referenceOf(
      messages.filter((message) => message.offset >= (from.get(message.partition) ?? 0n)),
      stagesKeys,
      false,
    );
  }

  /**
   * The reference model over the raw `events` log (SPEC §1.2–1.3): each event joined here with the
   * shipped names and departments files — the test's own join, not src/stages's, so a wrong join
   * there shows — partition by partition in the order the events were produced: what the tables
   * must equal whatever the enrichment stage went through (stops, kill -9, backlogs). `settings`:
   * another version's window settings (same window size) than the harness's.
   */
  async function referenceFromEvents(
    eventsTopic: string,
    closeEverything = false,
    keep: (event: { readonly id: number; readonly time: string }) => boolean = () => true,
    settings: WindowSettings = SETTINGS,
  ): Promise<ReferenceResult> {
    const names = jsonlTable(new URL('../../data/names.jsonl', import.meta.url), 'uid');
    const depts = jsonlTable(new URL('../../data/depts.jsonl', import.meta.url), 'did');
    const client = new SchemaRegistry({ host: registryUrl() });
    const messages: TopicMessage[] = [];
    for (const message of await readTopic(testKafka(context), eventsTopic)) {
      const decoded = (await client.decode(message.value)) as { id: number | bigint; time: string };
      if (keep({ id: Number(decoded.id), time: decoded.time })) messages.push(message);
    }
    return referenceOf(
      messages,
      (decoded) => {
        const { id, time } = decoded as { id: number; time: string };
        return {
          time,
          user: names.get(id % 10) ?? 'Unknown Name',
          dept: depts.get(id % 5) ?? 'Unknown Dept',
          age: (id % 100) + 1,
        };
      },
      closeEverything,
      settings,
    );
  }

  /** The three tables of a version as `${windowStart}|${dim}|${key}` → count, and its late total. */
  async function tablesOf(version: string): Promise<ReferenceResult> {
    const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
    try {
      const rows = new Map<string, number>();
      for (const [dim, table, column] of [
        ['user', 'events_users', 'user_name'],
        ['dept', 'events_depts', 'dept_name'],
        ['age', 'events_ages', 'age'],
      ] as const) {
        const [result] = await connection
          .query(`SELECT window_start, window_end, ${column} AS k, count FROM ${table}_${version}`)
          .catch((error: unknown) => {
            // Not created yet: the aggregator is still starting.
            if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [[]];
            throw error;
          });
        for (const row of result as {
          window_start: Date;
          window_end: Date;
          k: string | number;
          count: string | number;
        }[]) {
          expect(row.window_end.getTime() - row.window_start.getTime()).toBe(SETTINGS.sizeMs);
          rows.set(`${row.window_start.getTime()}|${dim}|${row.k}`, Number(row.count));
        }
      }
      const [late] = await connection
        .query(
          'SELECT COALESCE(SUM(late_events), 0) AS late, COALESCE(SUM(late_windows), 0) AS lateWindows FROM kappa_progress WHERE version = ?',
          [version],
        )
        .catch((error: unknown) => {
          // Not created yet, or not migrated yet: the aggregator is still starting.
          const code = (error as { code?: string }).code;
          if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_FIELD_ERROR') return [[]];
          throw error;
        });
      const totals = (late as { late: string | number; lateWindows: string | number }[])[0];
      return { rows, late: Number(totals?.late ?? 0), lateWindows: Number(totals?.lateWindows ?? 0) };
    } finally {
      await connection.end();
    }
  }

  /** The same as `tablesOf`, from the MongoDB collections of a version written with `--sink mongodb`. */
  async function collectionsOf(
    version: string,
    dims: readonly string[] = ['user', 'dept', 'age'],
  ): Promise<ReferenceResult> {
    const client = new MongoClient(context.mongodbUrl);
    try {
      const db = client.db();
      const rows = new Map<string, number>();
      for (const [dim, collection, field] of [
        ['user', 'events_users', 'user_name'],
        ['dept', 'events_depts', 'dept_name'],
        ['age', 'events_ages', 'age'],
      ] as const) {
        if (!dims.includes(dim)) continue;
        for (const doc of await db.collection(`${collection}_${version}`).find().toArray()) {
          const start = (doc['window_start'] as Date).getTime();
          expect((doc['window_end'] as Date).getTime() - start).toBe(SETTINGS.sizeMs);
          rows.set(`${start}|${dim}|${String(doc[field])}`, Number(doc['count']));
        }
      }
      const progress = await db.collection('kappa_progress').find({ version }).toArray();
      return {
        rows,
        late: progress.reduce((sum, doc) => sum + Number(doc['late_events']), 0),
        lateWindows: progress.reduce((sum, doc) => sum + Number(doc['late_windows'] ?? 0), 0),
      };
    } finally {
      await client.close();
    }
  }

  async function expectTablesToReach(
    version: string,
    reference: ReferenceResult,
    timeoutMs = 90_000,
    read: (version: string) => Promise<ReferenceResult> = tablesOf,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let tables = await read(version);
    while (
      Date.now() < deadline &&
      !(
        tables.late === reference.late &&
        JSON.stringify([...tables.rows].sort()) === JSON.stringify([...reference.rows].sort())
      )
    ) {
      await sleep(500);
      tables = await read(version);
    }
    expect(tables.rows).toEqual(reference.rows);
    expect(tables.late).toBe(reference.late);
    // And it stays there: nothing is counted twice afterwards.
    await sleep(2_000);
    expect((await read(version)).rows).toEqual(reference.rows);
  }

  /**
   * Enriched events straight into a stages topic, with event times spread over `n / 10` seconds and
   * a seeded 5 % of them 30 s late — the generator's wall-clock times would cover a few seconds only.
   * `from` continues a log written before (ids and times go on from there); `pauseMs` waits between
   * sends of 2,000; `signal` stops early. Resolves to the number of events written.
   */
  async function produceStages(
    topic: string,
    n: number,
    seed: number,
    options: { readonly from?: number; readonly pauseMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<number> {
    const admin = testKafka(context).admin();
    await admin.connect();
    await ensureTopics(admin, [logTopic(topic, { topicPartitions: 3, topicReplicationFactor: 1 })], context.logger);
    await admin.disconnect();
    const stagesSchema = readFileSync(new URL('../../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
    const { id: schemaId } = await new SchemaRegistry({ host: registryUrl() }).register(
      { type: SchemaType.AVRO, schema: stagesSchema },
      { subject: `${topic}-value` },
    );
    const type = parseAvro(stagesSchema);
    const base = Date.UTC(2026, 10, 22, 11, 0, 0);
    const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const first = options.from ?? 0;
    let written = 0;
    for (; written < n && options.signal?.aborted !== true; written += 2_000) {
      const messages = Array.from({ length: Math.min(2_000, n - written) }, (_, index) => {
        const id = first + written + index;
        const time = base + id * 100 - (isLate(seed, id, 0.05) ? 30_000 : 0);
        const enriched = enrich({ id, hello: 'x', time: formatEventTime(time, 'Asia/Seoul') }, SAMPLE_TABLES);
        return { key: String(enriched.user_id), value: encodeWithSchemaId(schemaId, type, enriched) };
      });
      await producer.send({ topic, messages });
      if (options.pauseMs !== undefined) await sleep(options.pauseMs);
    }
    await producer.disconnect();
    return Math.min(written, n);
  }

  return {
    context,
    pipeline,
    background,
    produceStages,
    referenceFromLog,
    referenceFromLogUpTo,
    referenceFromLogFrom,
    referenceFromEvents,
    tablesOf,
    collectionsOf,
    expectTablesToReach,
  };
}
