import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import type { BenchServerSpec } from './api-server.js';
import { KAPPA_NODE_FLAGS } from '../shared/node-flags.js';
import { commitLikeAnAggregator } from './api-commits.js';
import { compiledBenchChild } from './compiled-child.js';
import { MetricsScraper } from './metrics-scraper.js';
import { median } from './report.js';

export interface LoadFigures {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly requests: number;
}

async function load(url: string, seconds: number): Promise<LoadFigures> {
  const result = await autocannon({ url, connections: 32, duration: seconds, pipelining: 1 });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

/** The `q` quantile of `values` (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** The server's `kappa_api_window_reads_total` (reads of the windows route's rows). */
async function windowReads(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  return Number(/^kappa_api_window_reads_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `spec`'s server in a child process while `work` loads it; with `profileDir`, under
 * `node --cpu-prof` (the profile is written there when the child exits).
 */
async function withServer<T>(
  spec: BenchServerSpec,
  profileDir: string | undefined,
  work: (url: string) => Promise<T>,
): Promise<T> {
  const child = spawn(
    process.execPath,
    [
      // Every server with the node flags kappa runs with, the baselines too: the same V8 on each side.
      ...KAPPA_NODE_FLAGS,
      ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      compiledBenchChild('api-server'),
      JSON.stringify(spec),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  try {
    const lines = createInterface({ input: child.stdout });
    const first = await Promise.race([
      once(lines, 'line') as Promise<[string]>,
      exited.then(() => {
        throw new Error(`the bench's ${spec.kind} server exited before listening`);
      }),
    ]);
    const { url } = JSON.parse(first[0]) as { url: string };
    return await work(url);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

/**
 * `GET /api/windows/users?limit=100` (the serving version) of `kappa serve` under 32 concurrent
 * connections on loopback, next to a bare Fastify route answering a constant JSON body under the
 * same load — the difference is validation, SQL, serialisation and the body's bytes (`sameBody`: the
 * bare route answering the same bytes, for the detail). Each server runs in a child process (as
 * `kappa serve` runs in its own), autocannon in this one. The three are loaded in turn, `rounds`
 * times `seconds` each, and each figure is the median over the rounds: on a shared machine the load
 * of other processes drifts, and back-to-back phases would put the drift into the ratio.
 */
export async function benchApi(options: {
  brokers: readonly string[];
  registryUrl: string;
  mysqlUrl: string;
  stagesTopic: string;
  logger: Logger;
  seconds?: number;
  rounds?: number;
  /** `npm run bench -- --only api --cpu-prof-api <dir>`: profile the server under test. */
  profileDir?: string | undefined;
  /** A commit into the served version every this many ms while the rounds run (a live aggregator's pace). */
  commitEveryMs?: number;
}) {
  const { brokers, registryUrl, mysqlUrl, stagesTopic, seconds = 5, rounds = 3, commitEveryMs = 333 } = options;
  return withServer({ kind: 'kappa', brokers, registryUrl, mysqlUrl, stagesTopic }, options.profileDir, async (api) => {
    // The serving version's path (no ?version=): the version comes from the pointer, in the same statement.
    const ours = `${api}/api/windows/users?limit=100`;
    const body = await (await fetch(ours)).text();
    return withServer({ kind: 'bare' }, undefined, async (bare) =>
      // Not the row's baseline: what sending the same bytes costs without validation, SQL or serialisation.
      withServer({ kind: 'bare', body }, undefined, async (same) => {
        const urls = { ours, baseline: `${bare}/constant`, sameBody: `${same}/constant` };
        // /metrics on the idle server first (its first scrape waits for the first background refresh).
        await windowReads(api);
        const scraper = await MetricsScraper.start(`${api}/metrics`);
        try {
          const idleScrapes = await scraper.scrape(3);
          for (const url of Object.values(urls)) await load(url, 1); // warm-up: JIT, pool connections
          const measured = { ours: [] as LoadFigures[], baseline: [] as LoadFigures[], sameBody: [] as LoadFigures[] };
          const readsBefore = await windowReads(api);
          const committing = await commitLikeAnAggregator(mysqlUrl, stagesTopic, { everyMs: commitEveryMs });
          const committingSince = performance.now();
          for (let round = 0; round < rounds; round += 1)
            for (const [name, url] of Object.entries(urls) as [keyof typeof urls, string][])
              measured[name].push(await load(url, seconds));
          // Then the same load on kappa serve while a scraper reads its /metrics as Prometheus
          // would, as long as all its rounds together: the scrapes' p99 under load. Not in the
          // ratios: the scraper is a process of its own on the machine's two cores, which the
          // baselines' rounds do not have beside them.
          const scrapes = scraper.scrape(rounds * seconds);
          // Handled from now on: a scraper failing while the load runs must reach the `await`
          // below (and the servers' clean-up), not crash the bench as an unhandled rejection,
          // leaving its servers and broker running.
          scrapes.catch(() => undefined);
          const scrapedLoad = await load(ours, rounds * seconds);
          const loadedScrapes = await scrapes;
          const commits = await committing.stop();
          const commitsPerSec = commits / ((performance.now() - committingSince) / 1000);
          const reads = (await windowReads(api)) - readsBefore;
          for (const [name, figures] of Object.entries({ ...measured, scraped: [scrapedLoad] })) {
            const failed = figures.reduce((sum, entry) => sum + entry.non2xx, 0);
            // A figure of error answers (a 429 from the rate limit, a 5xx) would measure the wrong thing.
            if (failed > 0) throw new Error(`the API row's ${name} load got ${failed} answers other than 2xx`);
          }
          const summary = (figures: readonly LoadFigures[]) => ({
            requestsPerSec: median(figures.map((entry) => entry.requestsPerSec)),
            p50Ms: median(figures.map((entry) => entry.p50Ms)),
            p99Ms: median(figures.map((entry) => entry.p99Ms)),
            non2xx: figures.reduce((sum, entry) => sum + entry.non2xx, 0),
          });
          options.logger.info({ measured }, 'kappa serve and the bare Fastify baselines, round by round');
          return {
            ours: summary(measured.ours),
            baseline: summary(measured.baseline),
            sameBody: { ...summary(measured.sameBody), bytes: Buffer.byteLength(body) },
            requestsPerRead: [...measured.ours, scrapedLoad].reduce((sum, entry) => sum + entry.requests, 0) / reads,
            commitsPerSec,
            metricsScrape: {
              loaded: {
                requestsPerSec: scrapedLoad.requestsPerSec,
                samples: loadedScrapes.length,
                p50Ms: quantile(loadedScrapes, 0.5),
                p99Ms: quantile(loadedScrapes, 0.99),
              },
              idle: {
                samples: idleScrapes.length,
                p50Ms: quantile(idleScrapes, 0.5),
                p99Ms: quantile(idleScrapes, 0.99),
              },
            },
            rounds: measured,
          };
        } finally {
          await scraper.close();
        }
      }),
    );
  });
}
