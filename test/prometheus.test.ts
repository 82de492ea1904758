import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { VersionStatus } from '../src/recovery/operations.js';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync } from './support/cli.js';
import { ensurePrometheus, startPrometheus, type RunningPrometheus } from './support/prometheus.js';
import { dashboardExpressions, metricNames } from './support/promql.js';

const { pipeline, background, produceStages } = useAggregateHarness('prometheus');
const N = 3_000;

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

describe('a real Prometheus scraping kappa serve (Debian prometheus, real broker, MariaDB)', () => {
  let prometheus: RunningPrometheus | undefined;
  afterAll(async () => {
    await prometheus?.stop();
  });

  it('receives the lag and late-event series with the values the API reports', { timeout: 900_000 }, async () => {
    const missing = await ensurePrometheus();
    expect(missing, missing).toBeUndefined();

    const env = pipeline('scraped');
    await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', N, 11);
    background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');
    const port = await freePort();
    background(['serve', '--port', String(port)], env, 'serve');
    const api = `http://127.0.0.1:${port}`;
    // v1 has consumed the whole log: from here on its lag and late count stay put.
    const v1 = await eventually('v1 to catch up', async () => {
      const { versions } = (await (await fetch(`${api}/api/versions`)).json()) as { versions: VersionStatus[] };
      const found = versions.find((entry) => entry.version === 'v1');
      return found !== undefined && found.lag === 0 && found.processed >= N ? found : undefined;
    });
    expect(v1.lateEvents).toBeGreaterThan(0);
    const status = JSON.parse((await kappaAsync(['status', '--json'], env)).stdout) as VersionStatus[];
    expect(status.find((entry) => entry.version === 'v1')?.lateEvents).toBe(v1.lateEvents);

    prometheus = await startPrometheus(await freePort(), `127.0.0.1:${port}`);
    const scraped = prometheus;
    /** The series' value once Prometheus has it (the first scrapes may fail while the API warms up). */
    const value = async (expr: string, expected?: number): Promise<number> => {
      let last: number | undefined;
      await eventually(`${expr} = ${expected ?? 'a value'} (last ${last})`, async () => {
        const [sample] = await scraped.query(expr);
        last = sample === undefined ? undefined : Number(sample.value[1]);
        return last !== undefined && (expected === undefined || last === expected) ? true : undefined;
      }).catch(() => undefined);
      return last ?? Number.NaN;
    };
    expect(await value('up{job="kappa"}', 1)).toBe(1);
    expect(await value('kappa_version_late_events{version="v1"}', v1.lateEvents)).toBe(v1.lateEvents);
    expect(await value('kappa_consumer_lag_records{stage="aggregate",version="v1"}', v1.lag)).toBe(v1.lag);
    expect(await value('kappa_version_processed_records{version="v1"}', v1.processed)).toBe(v1.processed);
    expect(await value(`kappa_topic_end_offset{topic="${env['KAPPA_TOPIC_STAGES'] ?? ''}"}`, N)).toBe(N);
    expect(await value('kappa_watermark_lag_seconds{version="v1"}')).toBeGreaterThan(0);

    // Every metric the Grafana dashboard queries has series in Prometheus, and every panel's
    // expression is valid PromQL for a real Prometheus.
    const expressions = dashboardExpressions(
      readFileSync(new URL('../compose/grafana/kappa.json', import.meta.url), 'utf8'),
    );
    for (const { panel, expr } of expressions) {
      await scraped.query(expr);
      for (const name of metricNames(expr))
        await eventually(`${panel}: a series of ${name}`, async () =>
          (await scraped.query(`count(${name})`)).length > 0 ? true : undefined,
        );
    }
  });
});
