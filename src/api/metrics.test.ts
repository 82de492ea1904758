import { describe, expect, it } from 'vitest';
import { countIncident } from '../shared/incidents.js';
import { newEnrichMetrics } from '../stages/enrich/run.js';
import { createApiMetrics } from './metrics.js';

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
