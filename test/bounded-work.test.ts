import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LatenessAnswer } from '../src/lateness/service.js';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync } from './support/cli.js';

/**
 * Issue 22: `GET /api/lateness?window=1d&slide=1ms` froze `kappa up` — health timed out, the stages
 * stopped, Ctrl-C did nothing. Work per event is bounded (1,000 windows) and the analysis runs in a
 * worker thread: the API answers, and Ctrl-C stops everything, while it runs.
 */
const { pipeline, background, produceStages } = useAggregateHarness('bounded-work');
const N = 1_000_000;

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  return { status: response?.status ?? 0, body: await response?.json().catch(() => null) };
}

describe('bounded work per event and per request (real broker, registry, MariaDB)', () => {
  it(
    'refuses more than 1,000 windows per event, naming both values (exit 2 for the CLI)',
    { timeout: 300_000 },
    async () => {
      const env = pipeline('windows');
      for (const command of [
        ['aggregate', '--version', 'v7'],
        ['recover', '--to', 'v7', '--until-caught-up'],
        ['lateness'],
      ]) {
        const result = await kappaAsync([...command, '--window', '1d', '--slide', '1ms'], env, 120_000);
        expect(result.code, `${command.join(' ')}\n${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(/window 86400s with slide 1ms .* 86400000 windows: at most 1000/);
      }
    },
  );

  it(
    'kappa up answers /api/health during an analysis of 1M events, and Ctrl-C stops it',
    { timeout: 900_000 },
    async () => {
      const env = pipeline('up');
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      await produceStages(stages, N, 11);
      const port = await freePort();
      const up = background(['up', '--rate', '1'], { ...env, KAPPA_API_PORT: String(port) }, 'up');
      const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
      const log = () => readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', 'up.log'), 'utf8').slice(-3_000);
      const api = `http://127.0.0.1:${port}`;
      let health = await get(`${api}/api/health`);
      for (let attempt = 0; attempt < 600 && health.status !== 200 && up.exitCode === null; attempt += 1) {
        await sleep(500);
        health = await get(`${api}/api/health`);
      }
      expect(health.status, log()).toBe(200);

      const refused = await get(`${api}/api/lateness?window=1d&slide=1ms`);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'KAPPA_BAD_REQUEST' });
      expect((refused.body as { message: string }).message).toMatch(/window 86400s with slide 1ms .* 86400000 windows/);

      // The heaviest analysis allowed: 1,000 windows per event over the whole log.
      const heavy = `${api}/api/lateness?window=10s&slide=10ms`;
      expect(((await get(heavy)).body as LatenessAnswer).state).toBe('computing');
      let answeredDuring = 0;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const answer = await get(`${api}/api/health`);
        const still = (await get(heavy)).body as LatenessAnswer;
        if (answer.status === 200 && still.state === 'computing') answeredDuring += 1;
        if (still.state !== 'computing') break;
        await sleep(200);
      }
      expect(answeredDuring, log()).toBeGreaterThan(0);

      // Ctrl-C while an analysis runs: kappa up stops (before: it had to be killed with -9).
      expect(((await get(heavy)).body as LatenessAnswer).state).toBe('computing');
      up.kill('SIGINT');
      const code = await Promise.race([exited, sleep(120_000).then(() => 'still running')]);
      expect(code, log()).toBe(0);
    },
  );
});
