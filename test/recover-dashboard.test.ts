import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { VersionStatus } from '../src/recovery/operations.js';
import type { ReplayPlan } from '../src/recovery/replay-plan.js';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { CHROMIUM, ensureChromium } from './support/chromium.js';
import { kappaAsync } from './support/cli.js';

const { pipeline, background, produceStages } = useAggregateHarness('recover-dashboard');

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await kappaAsync(args, { ...env, KAPPA_LOG_LEVEL: 'warn' }, 300_000);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

describe("a candidate's plan on the versions API and the dashboard (issue 26)", () => {
  it(
    'recover --plan, then recover: GET /api/versions carries the plan and Chromium shows its cells',
    { timeout: 900_000 },
    async () => {
      const missing = ensureChromium();
      expect(missing, missing).toBeUndefined();
      const env = pipeline('board');
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      const written = await produceStages(stages, 6_000, 11);
      await ok(['recover', '--to', 'v1', '--watermark', '15s', '--until-caught-up'], env);
      const plan = JSON.parse(
        await ok(['recover', '--to', 'v2', '--watermark', '60s', '--plan', '--json'], env),
      ) as ReplayPlan;
      expect(plan.late.recovered ?? 0).toBeGreaterThan(0);
      await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env);

      const port = await freePort();
      background(['serve', '--port', String(port)], env, 'serve');
      const url = `http://127.0.0.1:${port}/`;
      let versions: VersionStatus[] = [];
      for (let attempt = 0; attempt < 300 && versions.length < 2; attempt += 1) {
        versions = await fetch(`${url}api/versions`)
          .then(async (response) =>
            response.ok ? ((await response.json()) as { versions: VersionStatus[] }).versions : [],
          )
          .catch(() => []);
        if (versions.length < 2) await sleep(500);
      }
      const v2 = versions.find((entry) => entry.version === 'v2');
      expect(v2?.plan).toMatchObject({
        records: written,
        plannedRecords: plan.records,
        expectedLate: plan.late.planned,
        comparedWith: 'v1',
        expectedRecovered: plan.late.recovered,
        estimateSeconds: plan.estimate.seconds,
        // Caught up: nothing left.
        etaSeconds: 0,
      });
      expect(Date.parse(v2?.plan?.startedAt ?? '')).toBeGreaterThan(Date.parse(v2?.plan?.plannedAt ?? ''));
      // The serving version was started by `recover` too, without a plan: records, no expectations.
      expect(versions.find((entry) => entry.version === 'v1')?.plan).toMatchObject({
        records: written,
        expectedRecovered: null,
      });

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(url);
        const row = page.locator('#versions tbody tr[data-version="v2"]');
        await row.waitFor({ timeout: 60_000 });
        expect(await row.getAttribute('data-expected-recovered')).toBe(String(plan.late.recovered));
        expect(await row.locator('td.plan-recovered').textContent()).toBe(
          `${(plan.late.recovered ?? 0).toLocaleString('en-US')} (vs v1)`,
        );
        expect(await row.locator('td.plan-eta').textContent()).toBe('caught up');
        // The serving version's plan cells stay empty: a plan is a candidate's.
        expect(await page.locator('#versions tbody tr[data-version="v1"] td.plan-eta').textContent()).toBe('');
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
