import { describe, expect, it } from 'vitest';
import { countIncident } from '../shared/incidents.js';
import { newEnrichMetrics } from '../stages/enrich/run.js';
import { createApiMetrics, type MetricsSnapshot } from './metrics.js';

const SNAPSHOT = (lag: number): MetricsSnapshot => ({
  topics: { events: 10 },
  enrichLag: lag,
  versions: [],
});

/** A snapshot source whose answers the test releases by hand, counting the calls. */
function controlled() {
  const pending: ((snapshot: MetricsSnapshot) => void)[] = [];
  let calls = 0;
  return {
    source: () => {
      calls += 1;
      return new Promise<MetricsSnapshot>((resolve) => pending.push(resolve));
    },
    release: (lag: number) => pending.shift()?.(SNAPSHOT(lag)),
    calls: () => calls,
  };
}

async function enrichLag(metrics: ReturnType<typeof createApiMetrics>): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const match = /^kappa_consumer_lag_records\{stage="enrich",version=""\} (\d+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

describe('GET /metrics figures (createApiMetrics.scrape)', () => {
  it('waits for the first refresh, then never waits: a stale figure refreshes in the background, one at a time', async () => {
    const source = controlled();
    let clock = 0;
    const metrics = createApiMetrics(source.source, {}, { refreshMs: 5_000, firstWaitMs: 60_000, now: () => clock });

    const first = metrics.scrape();
    source.release(7);
    await first;
    expect(await enrichLag(metrics)).toBe(7);
    expect(source.calls()).toBe(1);

    // Fresh: no query at all.
    clock = 4_999;
    await metrics.scrape();
    expect(source.calls()).toBe(1);

    // Stale: the scrape answers at once with the old figure and starts one refresh ...
    clock = 5_000;
    await metrics.scrape();
    expect(await enrichLag(metrics)).toBe(7);
    expect(source.calls()).toBe(2);
    // ... and scrapes meanwhile start no second one, however slow Kafka and MySQL are.
    clock = 60_000;
    await metrics.scrape();
    await metrics.scrape();
    expect(source.calls()).toBe(2);
    source.release(9);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await enrichLag(metrics)).toBe(9);
    clock = 61_500;
    await metrics.scrape();
    expect(await metrics.registry.metrics()).toMatch(/^kappa_metrics_snapshot_age_seconds 1.5$/m);
  });

  it('serves without the Kafka/MySQL figures when the first refresh takes longer than it waits', async () => {
    const source = controlled();
    const metrics = createApiMetrics(source.source, {}, { firstWaitMs: 10 });
    await metrics.scrape();
    expect(await enrichLag(metrics)).toBeUndefined();
    source.release(3);
  });

  it('waits only until the first refresh settled: after a failed one, scrapes start another and do not wait', async () => {
    // A refresh that fails (a topic not created yet), then one that hangs: with firstWaitMs 60 s a
    // scrape that waited would outlive the test's timeout.
    let calls = 0;
    const metrics = createApiMetrics(
      () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('unknown topic')) : new Promise<MetricsSnapshot>(() => undefined);
      },
      {},
      { firstWaitMs: 60_000, onRefreshError: () => undefined },
    );
    await metrics.scrape();
    await metrics.scrape();
    await metrics.scrape();
    expect(calls).toBe(2);
    expect(await enrichLag(metrics)).toBeUndefined();
  });

  it('counts and reports a failed refresh and keeps the previous figures', async () => {
    let fail = false;
    let clock = 0;
    const errors: unknown[] = [];
    const metrics = createApiMetrics(
      () => (fail ? Promise.reject(new Error('MySQL is down')) : Promise.resolve(SNAPSHOT(4))),
      {},
      { refreshMs: 1, now: () => clock, onRefreshError: (error) => errors.push(error) },
    );
    await metrics.scrape();
    fail = true;
    clock = 10;
    await metrics.scrape();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1);
    expect(await enrichLag(metrics)).toBe(4);
    expect(await metrics.registry.metrics()).toMatch(/^kappa_metrics_refresh_failures_total 1$/m);
  });
});

describe('/metrics', () => {
  it('exports incidents (caught errors, retries, skipped records) and enrichment’s skipped records', async () => {
    const enrich = { ...newEnrichMetrics(), skipped: 4 };
    const metrics = createApiMetrics(() => Promise.resolve({ topics: {}, enrichLag: 0, versions: [] }), { enrich });
    countIncident('swallowed', 'metrics-test');
    countIncident('swallowed', 'metrics-test');
    await metrics.refresh();
    expect(await metrics.registry.getSingleMetricAsString('kappa_incidents_total')).toMatch(
      /^kappa_incidents_total\{kind="swallowed",what="metrics-test"\} 2$/m,
    );
    expect(await metrics.registry.getSingleMetricAsString('kappa_stage_records')).toMatch(
      /^kappa_stage_records\{stage="enrich",kind="skipped"\} 4$/m,
    );
  });
});
