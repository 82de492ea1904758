import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { CHROMIUM, ensureChromium } from './support/chromium.js';

const { pipeline, background, produceStages, referenceFromLog, expectTablesToReach } = useAggregateHarness('dashboard');
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

describe('the dashboard in a real browser (headless Chromium) against a running pipeline', () => {
  it('draws a chart with data for the running version', { timeout: 600_000 }, async () => {
    const missing = ensureChromium();
    expect(missing, missing).toBeUndefined();
    const env = pipeline('browser');
    await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000, 9);
    const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 3_000);
    background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'aggregate');
    await expectTablesToReach('v1', reference);
    const port = await freePort();
    background(['serve', '--port', String(port)], env, 'serve');
    const url = `http://127.0.0.1:${port}/`;
    for (
      let attempt = 0;
      attempt < 100 &&
      !(await fetch(`${url}api/health`)
        .then((response) => response.ok)
        .catch(() => false));
      attempt += 1
    )
      await sleep(200);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(url);
      // The chart of v1, with the rows of events_users_v1 plotted on a canvas.
      const chart = page.locator('.chart[data-version="v1"]');
      await chart.waitFor({ timeout: 30_000 });
      for (let attempt = 0; attempt < 150 && Number((await chart.getAttribute('data-points')) ?? 0) === 0; attempt += 1)
        await sleep(200);
      expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
      const userRows = [...reference.rows.keys()].filter((key) => key.includes('|user|')).length;
      expect(Number(await chart.getAttribute('data-points'))).toBe(userRows);
      expect(await page.locator('#versions tbody tr').first().textContent()).toContain('v1');
      expect(await page.locator('.u-legend').first().textContent()).toContain('Kim');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
