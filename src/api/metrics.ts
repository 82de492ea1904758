import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Type } from 'typebox';
import type { AggregateMetrics } from '../aggregates/run.js';
import type { EnrichMetrics } from '../stages/enrich/run.js';
import { incidentCounts } from '../shared/incidents.js';

/** What /metrics reports beyond the process: refreshed from Kafka and MySQL in the background. */
export interface MetricsSnapshot {
  /** End offset per topic (events, events_stages, events.dlq). */
  readonly topics: Readonly<Record<string, number>>;
  /** Records of the events topic the enrichment group has not consumed yet. */
  readonly enrichLag: number;
  readonly versions: readonly {
    readonly version: string;
    readonly lag: number;
    /** Records the version has consumed (its progress over all partitions). */
    readonly processed?: number;
    readonly lateEvents: number;
    readonly lateWindows: number;
    readonly badRecords: number;
    readonly watermarkLagSeconds: number | null;
  }[];
}

/** Counters of stages running in this process (`kappa up`); a standalone `kappa serve` has none. */
export interface InProcessStages {
  readonly enrich?: EnrichMetrics;
  readonly aggregates?: Readonly<Record<string, AggregateMetrics>>;
}

export interface ApiMetrics {
  readonly registry: Registry;
  readonly httpIngested: Counter;
  /** Requests answered, by method, route pattern and status code. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** SQL reads of GET /api/windows/:dim: fewer than its requests when identical ones share a read. */
  readonly windowReads: Counter;
  /** Queries Kafka and MySQL now and sets the gauges from the answer. */
  refresh(): Promise<void>;
  /**
   * What a scrape calls: the stages' in-process counters now, the Kafka/MySQL gauges as of the last
   * background refresh — never waiting for one, except the very first (at most `firstWaitMs`). A
   * refresh older than `refreshMs` starts another in the background, one at a time.
   */
  scrape(): Promise<void>;
}

export interface MetricsRefreshOptions {
  /** A scrape finding the gauges older than this refreshes them in the background. */
  readonly refreshMs?: number;
  /** The first scrape waits this long at most for the first refresh. */
  readonly firstWaitMs?: number;
  /** Milliseconds now; injectable for tests. */
  readonly now?: () => number;
  /** Told about each failed background refresh (also counted in kappa_metrics_refresh_failures_total). */
  readonly onRefreshError?: (error: unknown) => void;
}

export function createApiMetrics(
  snapshot: () => Promise<MetricsSnapshot>,
  stages: InProcessStages = {},
  options: MetricsRefreshOptions = {},
): ApiMetrics {
  const { refreshMs = 5_000, firstWaitMs = 10_000, now = Date.now, onRefreshError } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kappa_' });
  const httpIngested = new Counter({
    name: 'kappa_http_ingested_events_total',
    help: 'Events accepted by POST /api/events',
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'kappa_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'kappa_http_request_duration_seconds',
    help: 'HTTP request duration, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const windowReads = new Counter({
    name: 'kappa_api_window_reads_total',
    help: 'Reads of the rows of GET /api/windows/:dim (identical concurrent requests share one read that started after they arrived; rows whose version has not committed since are not read again)',
    registers: [registry],
  });
  const processed = new Gauge({
    name: 'kappa_version_processed_records',
    help: 'Records of the stages topic consumed per job version (its progress over all partitions)',
    labelNames: ['version'],
    registers: [registry],
  });
  const topicEnd = new Gauge({
    name: 'kappa_topic_end_offset',
    help: 'End offset (records written, markers included) per pipeline topic',
    labelNames: ['topic'],
    registers: [registry],
  });
  const consumerLag = new Gauge({
    name: 'kappa_consumer_lag_records',
    help: 'Records not yet consumed, per stage (enrich) or job version',
    labelNames: ['stage', 'version'],
    registers: [registry],
  });
  const late = new Gauge({
    name: 'kappa_version_late_events',
    help: 'Late events counted per job version',
    labelNames: ['version'],
    registers: [registry],
  });
  const lateWindows = new Gauge({
    name: 'kappa_version_late_windows',
    help: '(event, window) misses per job version: with hopping windows an event may miss some of its windows',
    labelNames: ['version'],
    registers: [registry],
  });
  const badRecords = new Gauge({
    name: 'kappa_version_bad_records',
    help: 'Records a job version could not use (dead-lettered to <stages topic>.dlq)',
    labelNames: ['version'],
    registers: [registry],
  });
  const watermarkLag = new Gauge({
    name: 'kappa_watermark_lag_seconds',
    help: 'Wall clock minus the lowest partition watermark, per job version',
    labelNames: ['version'],
    registers: [registry],
  });
  // Monotonic in the process (src/shared/incidents.ts): a counter brought up to date at each scrape.
  new Counter({
    name: 'kappa_incidents_total',
    help: 'Things this process went on past without stopping: errors caught (swallowed), work done again (retry), records dropped by policy (skipped); by kind and what',
    labelNames: ['kind', 'what'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { kind, what, count } of incidentCounts()) this.inc({ kind, what }, count);
    },
  });
  const stageRecords = new Gauge({
    name: 'kappa_stage_records',
    help: 'Records handled by stages running in this process, by stage and kind (in, out, late, dlq, skipped)',
    labelNames: ['stage', 'kind'],
    registers: [registry],
  });
  const snapshotAge = new Gauge({
    name: 'kappa_metrics_snapshot_age_seconds',
    help: 'Age of the Kafka and MySQL figures in this scrape (refreshed in the background, not per scrape)',
    registers: [registry],
  });
  const refreshFailures = new Counter({
    name: 'kappa_metrics_refresh_failures_total',
    help: 'Background refreshes of the Kafka and MySQL figures that failed (the previous figures stay)',
    registers: [registry],
  });

  let refreshedAt: number | undefined;
  /**
   * Scrapes wait (up to firstWaitMs) only until the first refresh has settled: one that failed —
   * a topic not created yet — used to make every later scrape wait for another.
   */
  let firstSettled = false;
  let inFlight: Promise<void> | undefined;
  const refreshInBackground = (): Promise<void> =>
    (inFlight ??= refresh()
      .catch((error: unknown) => {
        refreshFailures.inc();
        onRefreshError?.(error);
      })
      .finally(() => {
        inFlight = undefined;
        firstSettled = true;
      }));

  function setStageRecords(): void {
    stageRecords.reset();
    if (stages.enrich !== undefined) {
      stageRecords.set({ stage: 'enrich', kind: 'in' }, stages.enrich.in);
      stageRecords.set({ stage: 'enrich', kind: 'out' }, stages.enrich.out);
      stageRecords.set({ stage: 'enrich', kind: 'dlq' }, stages.enrich.dlq);
      stageRecords.set({ stage: 'enrich', kind: 'skipped' }, stages.enrich.skipped);
    }
    for (const [version, metrics] of Object.entries(stages.aggregates ?? {})) {
      stageRecords.set({ stage: `aggregate-${version}`, kind: 'in' }, metrics.in);
      stageRecords.set({ stage: `aggregate-${version}`, kind: 'out' }, metrics.rows);
      stageRecords.set({ stage: `aggregate-${version}`, kind: 'late' }, metrics.late);
      stageRecords.set({ stage: `aggregate-${version}`, kind: 'dlq' }, metrics.bad);
    }
  }

  async function refresh(): Promise<void> {
    const current = await snapshot();
    topicEnd.reset();
    for (const [topic, end] of Object.entries(current.topics)) topicEnd.set({ topic }, end);
    consumerLag.reset();
    late.reset();
    processed.reset();
    lateWindows.reset();
    badRecords.reset();
    watermarkLag.reset();
    consumerLag.set({ stage: 'enrich', version: '' }, current.enrichLag);
    for (const version of current.versions) {
      consumerLag.set({ stage: 'aggregate', version: version.version }, version.lag);
      late.set({ version: version.version }, version.lateEvents);
      if (version.processed !== undefined) processed.set({ version: version.version }, version.processed);
      lateWindows.set({ version: version.version }, version.lateWindows);
      badRecords.set({ version: version.version }, version.badRecords);
      if (version.watermarkLagSeconds !== null)
        watermarkLag.set({ version: version.version }, version.watermarkLagSeconds);
    }
    refreshedAt = now();
  }

  return {
    registry,
    httpIngested,
    httpRequests,
    httpDuration,
    windowReads,
    async refresh() {
      await refresh();
      setStageRecords();
    },
    async scrape() {
      setStageRecords();
      if (!firstSettled) {
        // The first scrape: wait a little for real figures rather than serve empty gauges.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          refreshInBackground(),
          new Promise((resolve) => (timer = setTimeout(resolve, firstWaitMs).unref())),
        ]).finally(() => clearTimeout(timer));
      } else if (refreshedAt === undefined || now() - refreshedAt >= refreshMs) void refreshInBackground();
      if (refreshedAt !== undefined) snapshotAge.set((now() - refreshedAt) / 1_000);
    },
  };
}

/**
 * Counts and times every request of `app` and of the plugins registered after this — call it on
 * the root instance: a hook added inside an encapsulated plugin sees only that plugin's routes.
 * The route *pattern* keeps the label set small (/api/windows/:dim, not every URL).
 */
export function instrumentHttp(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    metrics.httpRequests.inc({ method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1_000);
    done();
  });
}

/** `GET /metrics`: the Prometheus text of `metrics`. */
export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
      },
    },
    async (_request, reply) => {
      await metrics.scrape();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}
