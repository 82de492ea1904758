import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { LiveDiffAnswer } from '../src/recovery/live-diff-service.js';
import type { VersionDiff, VersionStatus } from '../src/recovery/operations.js';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { CHROMIUM, ensureChromium } from './support/chromium.js';
import { kappaAsync } from './support/cli.js';

const { pipeline, background, produceStages, referenceFromLog, expectTablesToReach } = useAggregateHarness('shadow');

async function statusOf(env: Record<string, string>): Promise<Map<string, VersionStatus>> {
  const result = await kappaAsync(['status', '--json'], env, 120_000);
  expect(result.code, result.stderr).toBe(0);
  return new Map((JSON.parse(result.stdout) as VersionStatus[]).map((entry) => [entry.version, entry]));
}

describe('a shadow version: live beside the serving one, its diff on the dashboard', () => {
  it(
    'recover --shadow keeps v2 live, status shows it, the live diff and the dashboard show explained rows',
    { timeout: 900_000 },
    async () => {
      const missing = ensureChromium();
      expect(missing, missing).toBeUndefined();
      const env = pipeline('shadow');
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      await produceStages(stages, 3_000, 7);
      const reference = await referenceFromLog(stages, 3_000);
      background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');
      await expectTablesToReach('v1', reference);
      const shadow = background(['recover', '--to', 'v2', '--watermark', '60s', '--shadow'], env, 'recover-v2-shadow');
      let v2: VersionStatus | undefined;
      for (let attempt = 0; attempt < 300 && v2?.state !== 'shadow'; attempt += 1) {
        await sleep(500);
        v2 = (await statusOf(env)).get('v2');
      }
      expect(v2?.state).toBe('shadow');
      expect(shadow.exitCode).toBeNull();
      // More of the log while v2 is a shadow: both versions consume it live, windows close in both.
      await produceStages(stages, 3_000, 7, { from: 3_000 });

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
      expect(await (await fetch(`${url}api/shadows`)).json()).toEqual({ pairs: [{ from: 'v1', to: 'v2' }] });

      // The live diff fills in; once every row is explained it stays so (watermark-only v2).
      let answer: LiveDiffAnswer | undefined;
      for (let attempt = 0; attempt < 300; attempt += 1) {
        answer = (await (await fetch(`${url}api/diff?from=v1&to=v2&dim=users`)).json()) as LiveDiffAnswer;
        const users = answer.dims[0];
        if (users !== undefined && users.rows.length > 0 && users.rows.every((row) => row.explained !== null)) break;
        await sleep(1_000);
      }
      const users = answer?.dims[0];
      expect(answer?.error ?? null).toBeNull();
      expect(users?.rows.length ?? 0).toBeGreaterThan(0);
      expect(users?.unexplained).toBe(0);
      expect(users?.explained).toBe(users?.rows.length);
      expect((users?.totalTo ?? 0) - (users?.totalFrom ?? 0)).toBeGreaterThan(0);
      // At the same offsets (both versions have consumed the whole log), the live figures are kappa diff's.
      for (let attempt = 0; attempt < 120; attempt += 1) {
        const statuses = await statusOf(env);
        if (statuses.get('v1')?.lag === 0 && statuses.get('v2')?.lag === 0) break;
        await sleep(500);
      }
      const cli = await kappaAsync(['diff', 'v1', 'v2', '--json'], env, 120_000);
      const table = (JSON.parse(cli.stdout) as VersionDiff).tables.user;
      const figures = (dim: LiveDiffAnswer['dims'][number] | undefined) => ({
        totalFrom: dim?.totalFrom,
        totalTo: dim?.totalTo,
        differing: dim?.differing,
        onlyFrom: dim?.onlyFrom,
        onlyTo: dim?.onlyTo,
      });
      const wanted = {
        totalFrom: table?.totalFrom,
        totalTo: table?.totalTo,
        differing: table?.differing.length,
        onlyFrom: table?.onlyFrom.length,
        onlyTo: table?.onlyTo.length,
      };
      let live = figures(users);
      for (let attempt = 0; attempt < 120 && JSON.stringify(live) !== JSON.stringify(wanted); attempt += 1) {
        await sleep(1_000);
        const again = (await (await fetch(`${url}api/diff?from=v1&to=v2&dim=users`)).json()) as LiveDiffAnswer;
        live = figures(again.dims[0]);
      }
      expect(live).toEqual(wanted);
      const metrics = await (await fetch(`${url}metrics`)).text();
      expect(metrics).toMatch(/kappa_shadow_diff_rows\{from="v1",to="v2",dim="user",kind="explained"\} [1-9]/);

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(url);
        const rows = page.locator('#diff-rows tbody tr');
        await rows.first().waitFor({ timeout: 60_000 });
        expect(await page.locator('#diff-pair').textContent()).toBe('v1 → v2');
        expect(await rows.count()).toBeGreaterThan(0);
        expect(await page.locator('#diff-rows tbody tr[data-explained="true"]').count()).toBe(await rows.count());
        expect(await page.locator('#diff-windows tbody tr').count()).toBeGreaterThan(0);
        expect(await page.locator('#diff-summary').textContent()).toMatch(/rows differ.*explained by lateness, 0 not/);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
