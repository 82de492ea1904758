import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { metricNames } from '../../test/support/promql.js';
import { createApiMetrics, registerMetrics } from './metrics.js';

/** compose/grafana/kappa.json: the panels and their PromQL. */
interface Dashboard {
  readonly panels: readonly { readonly title: string; readonly targets: readonly { readonly expr: string }[] }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../compose/grafana/kappa.json', import.meta.url), 'utf8'),
) as Dashboard;

/** What `GET /metrics` exports: the sample names of every metric family (histograms: _bucket, _sum, _count). */
async function exported(): Promise<Set<string>> {
  const metrics = createApiMetrics(() =>
    Promise.resolve({
      topics: { events: 10, events_stages: 10, 'events.dlq': 0 },
      enrichLag: 0,
      versions: [
        { version: 'v1', lag: 0, processed: 10, lateEvents: 1, lateWindows: 0, badRecords: 0, watermarkLagSeconds: 3 },
      ],
    }),
  );
  const app = Fastify();
  registerMetrics(app, metrics);
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  await app.close();
  const names = new Set<string>();
  for (const [, name, type] of response.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('compose/grafana/kappa.json', () => {
  it('reads the metric names out of PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(kappa_http_request_duration_seconds_bucket{route=~"a(b)"}[5m])))',
      ),
    ).toEqual(['kappa_http_request_duration_seconds_bucket']);
    expect(metricNames('rate(a_total[5m]) / on (version) b offset 5m')).toEqual(['a_total', 'b']);
  });

  it('has the panels of the pipeline, each querying only metrics that /metrics exports', async () => {
    expect(dashboard.panels.map((panel) => panel.title)).toEqual([
      'Events/s into each topic',
      'Consumer lag per stage and version',
      'Watermark lag',
      'Late events per version',
      'Late rate per version',
      'Dead-lettered records',
      'API request rate',
      'API latency',
    ]);
    const names = await exported();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        const used = metricNames(expr);
        expect(used.length, `${panel.title}: ${expr} selects no metric`).toBeGreaterThan(0);
        for (const name of used) expect(names, `${panel.title}: ${expr}`).toContain(name);
      }
    }
  });
});
