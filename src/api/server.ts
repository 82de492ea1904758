import type { FastifyInstance } from 'fastify';
import { createPool } from 'mysql2/promise';
import { ensureDatabase } from '../aggregates/migrations.js';
import { createKafka } from '../kafka/client.js';
import { committedOffsets, endOffsets, type OffsetsByPartition } from '../kafka/offsets.js';
import { enrichGroup, topicNames } from '../kafka/topics.js';
import { lagOf } from '../recovery/catch-up.js';
import { Catalog } from '../recovery/catalog.js';
import { cutover, rollback, versionStatus } from '../recovery/operations.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger, LogLevel } from '../shared/logger.js';
import { isLoopback } from '../shared/loopback.js';
import { buildApiApp } from './app.js';
import { HttpIngest } from './http-ingest.js';
import { createApiMetrics, type InProcessStages, type MetricsSnapshot } from './metrics.js';
import { Queries } from './queries.js';
import { loadConfig } from '../config/load.js';
import { explainRows } from '../recovery/explain-versions.js';
import { LiveDiffService } from '../recovery/live-diff-service.js';
import { LatenessService, type LatenessDefaults } from '../lateness/service.js';
import type { Replication } from '../kafka/replication.js';

export interface ApiServerOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly mysqlUrl: string;
  readonly topicEvents: string;
  readonly topicStages: string;
  /** For the events topic when HTTP ingest creates it (like every stage, idempotently). */
  readonly topicPartitions: number;
  readonly topicReplicationFactor: Replication;
  readonly topicMinInsync?: Replication;
  readonly topicReplicationCheck?: 'warn' | 'refuse';
  readonly schemasDir: string;
  readonly timeZone: string;
  /** KAPPA_MAX_FUTURE: POST /api/events refuses a time further ahead of the record's timestamp. */
  readonly maxFutureMs?: number;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Bearer token of POST /api/events; required when `host` is not a loopback address. */
  readonly ingestToken?: string;
  /** POST /api/events per client per minute (0: unlimited; default 600). */
  readonly ingestRateLimit?: number;
  /** Requests to any route per client per minute, before any token check (0: unlimited; default 6,000). */
  readonly requestRateLimit?: number;
  readonly logger: Logger;
  readonly stages?: InProcessStages;
  /** GET /api/lateness when a request does not say (window, slide, delays, target); the settings' defaults if omitted. */
  readonly lateness?: LatenessDefaults;
}

export interface RunningApi {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

function latenessDefaults(): LatenessDefaults {
  const config = loadConfig(['window', 'slide', 'latenessDelays', 'latenessTarget'], { env: {} });
  return {
    windows: { sizeMs: config.window, slideMs: config.slide },
    delays: config.latenessDelays,
    target: config.latenessTarget,
  };
}

/** Builds the API's dependencies (MySQL, Kafka admin, lazily HTTP ingest) and listens. */
export async function startApi(options: ApiServerOptions): Promise<RunningApi> {
  const { logger } = options;
  if (!isLoopback(options.host) && (options.ingestToken ?? '') === '')
    throw new ConfigError(
      'ingestToken',
      `invalid KAPPA_INGEST_TOKEN: required when the API listens on ${options.host} (not a loopback address), or anyone who reaches the port could write events; set one, e.g. KAPPA_INGEST_TOKEN=$(openssl rand -hex 16)`,
    );
  await ensureDatabase(options.mysqlUrl);
  const pool = createPool({
    uri: options.mysqlUrl,
    timezone: 'Z',
    connectionLimit: 8,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const catalog = await Catalog.open(options.mysqlUrl);
  const kafka = createKafka({ brokers: options.brokers, logger, clientId: 'kappa-api' });
  const admin = kafka.admin();
  await admin.connect();
  let ingest: Promise<HttpIngest> | undefined;
  const names = topicNames({ topicEvents: options.topicEvents, topicStages: options.topicStages });

  const snapshot = async (): Promise<MetricsSnapshot> => {
    const topics: Record<string, number> = {};
    let eventsEnds: OffsetsByPartition = new Map();
    for (const topic of [names.events, names.stages, names.deadLetter]) {
      const ends = await endOffsets(admin, topic);
      if (topic === names.events) eventsEnds = ends;
      topics[topic] = Number([...ends.values()].reduce((sum, end) => sum + end, 0n));
    }
    const enrichCommitted = await committedOffsets(admin, enrichGroup(names.stages), names.events).catch(
      () => new Map<number, bigint>(),
    );
    const enrichLag = Number(lagOf(eventsEnds, enrichCommitted).lag);
    const versions = (await versionStatus(catalog, admin)).map((status) => ({
      version: status.version,
      lag: status.lag,
      processed: status.processed,
      lateEvents: status.lateEvents,
      lateWindows: status.lateWindows,
      badRecords: status.badRecords,
      watermarkLagSeconds: status.watermark === null ? null : (Date.now() - Date.parse(status.watermark)) / 1_000,
    }));
    return { topics, enrichLag, versions };
  };

  const lateness = new LatenessService({
    source: {
      brokers: options.brokers,
      registryUrl: options.registryUrl,
      schemasDir: options.schemasDir,
      topic: options.topicStages,
      timeZone: options.timeZone,
      ...(options.maxFutureMs === undefined ? {} : { maxFutureMs: options.maxFutureMs }),
      logLevel: logger.level as LogLevel,
    },
    logger,
    defaults: options.lateness ?? latenessDefaults(),
  });
  const explainContext = {
    catalog,
    source: { kafka, registryUrl: options.registryUrl, schemasDir: options.schemasDir, logger },
    defaultTimeZone: options.timeZone,
  };
  const liveDiff = new LiveDiffService({ catalog, explain: explainContext, logger });
  const queries = new Queries(pool);
  const app = await buildApiApp({
    reads: queries,
    operations: {
      versions: () => versionStatus(catalog, admin),
      cutover: (to) => cutover(catalog, admin, to),
      rollback: () => rollback(catalog),
    },
    ingest: () =>
      (ingest ??= HttpIngest.open({
        kafka,
        registryUrl: options.registryUrl,
        schemasDir: options.schemasDir,
        mysqlUrl: options.mysqlUrl,
        topics: {
          topicEvents: options.topicEvents,
          topicStages: options.topicStages,
          topicPartitions: options.topicPartitions,
          topicReplicationFactor: options.topicReplicationFactor,
          ...(options.topicMinInsync === undefined ? {} : { topicMinInsync: options.topicMinInsync }),
          ...(options.topicReplicationCheck === undefined
            ? {}
            : { topicReplicationCheck: options.topicReplicationCheck }),
        },
        timeZone: options.timeZone,
        ...(options.maxFutureMs === undefined ? {} : { maxFutureMs: options.maxFutureMs }),
        logger,
      }).catch((error: unknown) => {
        ingest = undefined;
        throw error;
      })),
    readiness: {
      kafka: async () => {
        await admin.describeCluster();
      },
      registry: async () => {
        const response = await fetch(`${options.registryUrl}/subjects`, { signal: AbortSignal.timeout(3_000) });
        if (!response.ok) throw new Error(`registry answered ${response.status}`);
      },
      mysql: () => queries.ping(),
    },
    metrics: createApiMetrics(snapshot, options.stages, {
      onRefreshError: (error) =>
        logger.warn({ err: error }, 'metrics refresh failed; /metrics serves the previous figures'),
    }),
    token: options.token,
    ingestToken: options.ingestToken ?? '',
    ingestPerMinute: options.ingestRateLimit ?? 600,
    requestsPerMinute: options.requestRateLimit ?? 6_000,
    loopbackHostsOnly: isLoopback(options.host),
    logger,
    lateness,
    liveDiff,
    explain: async (from, to, dim, key, windowStart) => {
      const [row] = await explainRows(explainContext, from, to, [{ dim, key, windowStart }]);
      if (row === undefined) throw new Error('no explanation');
      return row;
    },
  });
  const close = async () => {
    await app.close().catch(() => undefined);
    await lateness.close().catch(() => undefined);
    liveDiff.close();
    if (ingest !== undefined) await (await ingest.catch(() => undefined))?.close();
    await admin.disconnect().catch(() => undefined);
    await catalog.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  };
  try {
    const url = await app.listen({ host: options.host, port: options.port });
    logger.info({ url, docs: `${url}/docs` }, 'API listening');
    return { url, app, close };
  } catch (error) {
    await close();
    throw error;
  }
}
