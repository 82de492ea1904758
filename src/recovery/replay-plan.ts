import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import { createConnection } from 'mysql2/promise';
import { AggregationDriver } from '../aggregates/aggregation-driver.js';
import { classifier } from '../aggregates/batch-plan.js';
import { DIMENSION_SPECS, type Dimension } from '../model/dimensions.js';
import { MemorySink } from '../aggregates/memory-sink.js';
import type { AggregateSink } from '../aggregates/sink.js';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import type { VersionSettings } from '../model/version-settings.js';
import { LatenessAnalyser } from '../lateness/analyser.js';
import type { AvroDecoder } from '../registry/avro-decoder.js';
import type { EnrichedEvent } from '../model/enriched-event.js';
import type { RawEvent } from '../stages/enrich/rules.js';
import type { StagedRecord } from '../aggregates/aggregation-driver.js';
import type { Catalog } from './catalog.js';
import { enrichForPlan, type Enriched, type FullChainPlan } from './full-chain-plan.js';
import type { PlannedFigures } from './plan-progress.js';
import type { PlanKey } from './plan-store.js';
import { scanLog } from './log-scan.js';
import { readerDecoder, SchemaTally, type SchemaIdReport } from './schema-preflight.js';

export interface PlanOptions {
  readonly kafka: Kafka;
  readonly registryUrl: string;
  readonly schemasDir: string;
  readonly mysqlUrl: string;
  readonly version: string;
  /** The version's settings, its event-time bound (KAPPA_MAX_FUTURE) included. */
  readonly settings: VersionSettings;
  /** Records fed to the real driver with MySQL commits (into a scratch database) to time the replay. */
  readonly sampleRecords?: number;
  /** What starting the command cost this process (ms): the replay's command pays it too. */
  readonly startupMs?: number;
  /** `--from <events>`: plan a full chain, the raw topic enriched in memory as the replay's enrichment will. */
  readonly fullChain?: FullChainPlan;
  readonly signal?: AbortSignal;
}

export interface ReplayPlan {
  readonly version: string;
  /** The topic replayed from offset 0: the stages topic, or a full chain's raw events topic. */
  readonly topic: string;
  /** A full chain: the new stages topic it writes, and the records its enrichment dead-letters (of `deadLetters`). */
  readonly fullChain?: { readonly stagesTopic: string; readonly enrichDeadLetters: number };
  /** Records to replay per partition (offset 0 to the end offset now, transaction markers included). */
  readonly partitions: readonly { readonly partition: number; readonly records: number }[];
  readonly records: number;
  readonly schemaIds: readonly SchemaIdReport[];
  readonly deadLetters: number;
  /** Rows the version's tables will hold once it has replayed this log, per dimension. */
  readonly rows: Readonly<Partial<Record<Dimension, number>>>;
  /** Rows and window digests, approximately, as InnoDB stores them (data, not indexes). */
  readonly approxBytes: number;
  readonly late: {
    /** The serving version (what `diff` compares with), if any on the same topic. */
    readonly servingVersion?: string;
    /** Late events the serving version counted (its progress rows). */
    readonly serving?: number;
    /** The same from the lateness analyser over this log with the serving version's settings. */
    readonly servingAnalysed?: number;
    /** Late events this version will count (the analyser at its watermark; the engine agrees). */
    readonly planned: number;
    /** What `diff` will report as recovered: serving − planned. */
    readonly recovered?: number;
  };
  readonly estimate: {
    /** Starting the command, measured in this one (process, modules). */
    readonly startupMs: number;
    /** Reading the whole log, measured by this plan's own read (group join included, processing excluded). */
    readonly readMs: number;
    /** Records timed through the real driver with MySQL commits (a scratch database, dropped). */
    readonly sampleRecords: number;
    readonly sampleMs: number;
    readonly seconds: number;
  };
}

/** A row as InnoDB keeps it, roughly: two DATETIME(3), the key, the count, the flag, ~20 bytes overhead. */
function rowBytes(dim: Dimension, key: string): number {
  return 7 + 7 + 8 + 1 + 20 + (DIMENSION_SPECS[dim].numeric ? 4 : 2 + Buffer.byteLength(key));
}

const noPublish = () => Promise.resolve();

/** A scratch database beside the real one for the timed sample: the plan changes nothing. */
function scratchUrl(mysqlUrl: string): { readonly url: string; readonly drop: () => Promise<void> } {
  const url = new URL(mysqlUrl);
  const database =
    `${decodeURIComponent(url.pathname.slice(1)) || 'kappa'}_plan_${randomBytes(3).toString('hex')}`.slice(0, 64);
  url.pathname = `/${database}`;
  const root = new URL(mysqlUrl);
  root.pathname = '/';
  return {
    url: url.toString(),
    drop: async () => {
      const connection = await createConnection({ uri: root.toString() });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => connection.end());
    },
  };
}

/**
 * `kappa recover --to vN --plan` (issue 26): reads the stages log once, as the replay will, and
 * changes nothing. Every record goes through the aggregator's decoder and classification (schema
 * ids, dead letters), the lateness analyser at the serving version's and this version's watermark,
 * and the real driver and engine into a sink in memory (rows, exactly). The first `sampleRecords`
 * also go through the driver into a MySqlSink on a scratch database, which times the commits.
 * A full chain (`fullChain`) reads the raw events topic instead and enriches each record in memory
 * by the enrichment's rules first (full-chain-plan.ts): the same figures, for the chain.
 */
export async function planReplay(catalog: Catalog, options: PlanOptions): Promise<ReplayPlan> {
  const { settings, version, fullChain } = options;
  const topic = fullChain?.eventsTopic ?? settings.stagesTopic;
  const decoder: AvroDecoder<EnrichedEvent> = await readerDecoder(
    options.registryUrl,
    options.schemasDir,
    'events_stages',
  );
  const rawDecoder: AvroDecoder<RawEvent> | undefined =
    fullChain === undefined ? undefined : await readerDecoder(options.registryUrl, options.schemasDir, 'events');
  const scanned = (rawDecoder ?? decoder) as AvroDecoder<unknown>;
  const tally = new SchemaTally(scanned);
  const { maxFutureMs } = settings;
  // What the aggregator will read for a record: itself, or (a full chain) what its enrichment writes.
  const stagesOf = (record: StagedRecord): Enriched =>
    rawDecoder === undefined || fullChain === undefined
      ? { kind: 'stages', decoded: decoder.decodeSync(record.value) }
      : enrichForPlan(
          rawDecoder.decodeSync(record.value),
          { timestampMs: record.timestampMs, timeZone: settings.timeZone, maxFutureMs },
          fullChain.tables,
        );
  const classifyDecoded = classifier({
    timeZone: settings.timeZone,
    dims: settings.dims,
    window: settings.window,
    maxFutureMs,
  });
  const classifyStaged = (record: StagedRecord) => {
    const staged = stagesOf(record);
    return staged.kind === 'dead'
      ? { kind: 'bad' as const, reason: staged.reason, detail: staged.detail }
      : classifyDecoded(staged.decoded, record.timestampMs);
  };
  const analyser = new LatenessAnalyser({ sizeMs: settings.window.sizeMs, slideMs: settings.window.slideMs });
  const memory = new MemorySink();
  const driverFor = (sink: AggregateSink) =>
    new AggregationDriver({
      version,
      stagesTopic: settings.stagesTopic,
      settings: settings.window,
      sink,
      classify: classifyStaged,
      publish: noPublish,
      deadLetterTopic: `${settings.stagesTopic}.dlq`,
    });
  await memory.prepare({ version, settings });
  const inMemory = driverFor(memory);
  const scratch = scratchUrl(options.mysqlUrl);
  const timed = await MySqlSink.open(scratch.url, version, settings.stagesTopic);
  const wanted = options.sampleRecords ?? 20_000;
  let [sampled, sampleMs, processingMs, deadLetters, enrichDeadLetters] = [0, 0, 0, 0, 0];
  const started = performance.now();
  let ends: ReadonlyMap<number, bigint>;
  try {
    await timed.prepare({ version, settings });
    const real = driverFor(timed);
    ends = await scanLog(
      options.kafka,
      topic,
      async ({ partition, records, from, end, more }) => {
        const begun = performance.now();
        await scanned.prepare(records.map((record) => record.value));
        for (const record of records) {
          tally.add(record.value);
          const staged = stagesOf(record);
          if (staged.kind === 'dead') {
            // Dead-lettered by a full chain's enrichment: never in the stages topic, unseen by the analyser.
            tally.deadLetter(record.value, staged.reason);
            deadLetters += 1;
            enrichDeadLetters += 1;
            continue;
          }
          const classified = classifyDecoded(staged.decoded, record.timestampMs);
          if (classified.kind === 'bad') {
            tally.deadLetter(record.value, classified.reason);
            if (classified.reason === 'future-time') analyser.future(partition);
            else analyser.bad(partition);
            deadLetters += 1;
          } else analyser.step(partition, classified.event.time);
        }
        await inMemory.batch(partition, records, { from, end });
        if (sampled < wanted && records.length > 0) {
          const sampleStart = performance.now();
          // As a replay commits: a backlog's batches by the limits, not one commit per fetch.
          await real.batch(partition, records, { from, end, backlog: more });
          sampleMs += performance.now() - sampleStart;
          sampled += records.length;
        } else if (sampled >= wanted) real.forget(partition);
        processingMs += performance.now() - begun;
      },
      options.signal,
    );
  } finally {
    await timed.close();
    await scratch.drop();
  }
  const readMs = performance.now() - started - processingMs;
  const rows: Partial<Record<Dimension, number>> = {};
  let approxBytes = 0;
  for (const slot of memory.totals.keys()) {
    const [, dim, ...key] = slot.split('|') as [string, Dimension, ...string[]];
    rows[dim] = (rows[dim] ?? 0) + 1;
    approxBytes += rowBytes(dim, key.join('|'));
  }
  const windows = new Set([...memory.totals.keys()].map((slot) => slot.split('|', 2).join('|')));
  approxBytes += windows.size * 60;

  const partitions = [...ends]
    .sort(([a], [b]) => a - b)
    .map(([partition, end]) => ({ partition, records: Number(end) }));
  const records = partitions.reduce((sum, entry) => sum + entry.records, 0);
  const serving = await catalog.serving();
  const servingRecord = serving === undefined ? undefined : await catalog.version(serving);
  // A full chain writes a new stages topic from the same raw events: the serving version is comparable.
  const compared =
    servingRecord !== undefined && (fullChain !== undefined || servingRecord.topic === topic)
      ? servingRecord
      : undefined;
  const planned = analyser.lateEvents(settings.window.delayMs);
  const servingLate = compared === undefined ? undefined : await catalog.lateEvents(compared.version);
  const perRecordMs = sampled === 0 ? 0 : sampleMs / sampled;
  const startupMs = options.startupMs ?? 0;
  return {
    version,
    topic,
    ...(fullChain === undefined ? {} : { fullChain: { stagesTopic: settings.stagesTopic, enrichDeadLetters } }),
    partitions,
    records,
    schemaIds: await tally.report(),
    deadLetters,
    rows,
    approxBytes,
    late: {
      planned,
      ...(compared === undefined || servingLate === undefined
        ? {}
        : {
            servingVersion: compared.version,
            serving: servingLate,
            servingAnalysed: analyser.lateEvents(compared.settings.delayMs),
            recovered: servingLate - planned,
          }),
    },
    estimate: {
      startupMs: Math.round(startupMs),
      readMs: Math.round(readMs),
      sampleRecords: sampled,
      sampleMs: Math.round(sampleMs),
      // The replay reads the log twice (the schema preflight, then the aggregator) and puts every
      // record through the driver with MySQL commits. A full chain reads a third log (the new stages
      // topic, as long) and its sample includes decoding and enriching each raw record; the
      // enrichment's Avro encoding and transactional writes to Kafka are not sampled (a plan writes nothing).
      seconds: Math.round((startupMs + (fullChain === undefined ? 2 : 3) * readMs + records * perRecordMs) / 100) / 10,
    },
  };
}

/** What a plan is for: the dashboard shows its figures for a replay of the same topics and settings. */
export function planKey(plan: ReplayPlan, settings: VersionSettings): PlanKey {
  return {
    version: plan.version,
    stagesTopic: settings.stagesTopic,
    sourceTopic: plan.topic,
    settings: settings.window,
  };
}

/** The figures `recover --plan` records for the versions API and the dashboard. */
export function plannedFigures(plan: ReplayPlan, atMs = Date.now()): PlannedFigures {
  return {
    atMs,
    records: plan.records,
    expectedLate: plan.late.planned,
    comparedWith: plan.late.servingVersion ?? null,
    expectedRecovered: plan.late.recovered ?? null,
    estimateSeconds: plan.estimate.seconds,
  };
}
