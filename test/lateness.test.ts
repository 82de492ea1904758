import { copyFileSync, mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { LatenessDocument } from '../src/lateness/format.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { freePort } from '../src/stack/processes.js';
import type { LatenessAnswer } from '../src/lateness/service.js';
import { CHROMIUM, ensureChromium } from './support/chromium.js';
import { kappaAsync } from './support/cli.js';

const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

const { pipeline, background, produceStages } = useAggregateHarness('lateness');
const N = 3_000;

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await kappaAsync(args, env, 180_000);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Waits until v1 has consumed the whole log (lag 0, every record processed). */
async function caughtUp(env: Record<string, string>, records: number): Promise<VersionStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const statuses = JSON.parse(await ok(['status', '--json'], env)) as VersionStatus[];
    const v1 = statuses.find((entry) => entry.version === 'v1');
    if (v1 !== undefined && v1.lag === 0 && v1.processed >= records) return v1;
    if (Date.now() > deadline) throw new Error(`v1 did not catch up: ${JSON.stringify(v1)}`);
    await sleep(500);
  }
}

describe('kappa lateness on a log with 5 % of events 30 s late (real broker, registry, MariaDB)', () => {
  it('recommends ≥ 30 s for 0.1 % and counts for 15 s exactly what v1 reports late', { timeout: 420_000 }, async () => {
    const env = pipeline('late');
    const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
    await produceStages(stages, N, 5);
    background(['aggregate', '--version', 'v1', '--window', '10s', '--watermark', '15s'], env, 'aggregate-v1');
    const v1 = await caughtUp(env, N);
    expect(v1.lateEvents).toBeGreaterThan(0);

    const document = JSON.parse(
      await ok(['lateness', '--json', '--target', '0.1%', '--delays', '15s,30s,60s,5m'], env),
    ) as LatenessDocument;
    expect(document.events).toBe(N);
    expect(document.bad).toBe(0);
    expect(document.offsets.reduce((sum, entry) => sum + Number(entry.next), 0)).toBe(N);
    expect(document.delays.find((cost) => cost.delayMs === 15_000)?.lateEvents).toBe(v1.lateEvents);
    expect(document.recommendedMs).toBeGreaterThanOrEqual(30_000);
    expect(document.smallestCandidateMs).toBeGreaterThanOrEqual(30_000);
    expect(document.overall.max).toBeGreaterThanOrEqual(30_000);
    expect(document.partitions.map((entry) => entry.partition)).toEqual([0, 1, 2]);

    const text = await ok(['lateness', '--delays', '15s,60s'], env);
    expect(text).toContain(`lateness of ${stages}: 3,000 events, 0 bad`);
    expect(text).toMatch(new RegExp(`^15s +${v1.lateEvents} \\(`, 'm'));
    expect(text).toMatch(/watermark 30s is the smallest/);

    const bad = await kappaAsync(['lateness', '--delays', '12.345s'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--delays');

    // The same numbers over HTTP, computed in the background, with the offsets they are valid for.
    const port = await freePort();
    background(['serve', '--port', String(port)], env, 'serve');
    const url = `http://127.0.0.1:${port}`;
    const lateness = async (query: string): Promise<{ status: number; body: LatenessAnswer }> => {
      const response = await fetch(`${url}/api/lateness?${query}`).catch(() => undefined);
      return { status: response?.status ?? 0, body: (await response?.json().catch(() => null)) as LatenessAnswer };
    };
    let answer = await lateness('delays=15s,30s,60s,5m&target=0.1%');
    for (let attempt = 0; attempt < 300 && (answer.body?.document ?? null) === null; attempt += 1) {
      await sleep(300);
      answer = await lateness('delays=15s,30s,60s,5m&target=0.1%');
    }
    expect(answer.status).toBe(200);
    expect(answer.body.document).toEqual(document);
    expect(answer.body.computedAt).toMatch(/^\d{4}-/);
    const other = await lateness('delays=0s,15s&window=10s&slide=5s');
    expect(other.body.windows).toEqual({ sizeMs: 10_000, slideMs: 5_000 });
    const refused = await lateness('delays=12.345s');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'KAPPA_BAD_REQUEST', field: 'delays' });
    expect((await lateness('window=10s&slide=20s')).status).toBe(400);

    // The dashboard's chart, next to the versions: late events per delay, v1's own count at 15 s.
    const missing = ensureChromium();
    expect(missing, missing).toBeUndefined();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${url}/`);
      const chart = page.locator('#lateness-chart');
      await chart.waitFor({ timeout: 60_000 });
      expect(Number(await chart.getAttribute('data-events'))).toBe(N);
      expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(5);
      expect(await page.locator('#lateness-summary').textContent()).toContain('needs a watermark of 30s');
      expect(await page.locator('#lateness .u-legend').textContent()).toContain('versions (status)');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#lateness').screenshot({ path: `${ARTIFACTS}lateness-chart.png` });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-lateness.png`, fullPage: true });
      if (process.env['UPDATE_DOCS_SCREENSHOT'] === '1')
        copyFileSync(`${ARTIFACTS}lateness-chart.png`, new URL('../docs/lateness-chart.png', import.meta.url));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
