import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LiveDiffAnswer } from '../src/recovery/live-diff-service.js';
import type { RowExplanation } from '../src/recovery/explain.js';
import type { ExplainedDiff } from '../src/recovery/explain-versions.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import { freePort } from '../src/stack/processes.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaOk, versionStatuses } from './support/cli.js';
import { testKafka } from './support/context.js';
import { readAtLeast, readTopic } from './support/read-topic.js';

/**
 * Issue 25's "done when": a live pipeline (enrichment, v1, the generator making late events) with
 * a shadow v2 of a longer watermark beside it for at least a minute of event time; then, with
 * both versions at the end of the same log, the live diff the API kept incrementally is `kappa
 * diff`'s, every differing row is explained event for event, and the cutover gate passes.
 */

// Short windows so a minute closes many of them; v1 drops events 5 s late, v2 (10 s) counts them.
const WINDOW = { sizeMs: 2_000, slideMs: 2_000, delayMs: 2_000 };
const { context, pipeline, background } = useAggregateHarness('shadowlive', WINDOW);

const MINUTE = 60_000;

const ok = kappaOk;
const status = versionStatuses;

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs` with `what`. */
async function until<T>(what: () => string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await sleep(1_000);
  }
}

function logOf(env: Record<string, string>, label: string): string {
  try {
    return readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', `${label}.log`), 'utf8').slice(-3_000);
  } catch {
    return '(no log)';
  }
}

async function stop(child: ChildProcess, label: string): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  expect(await exited, `${label} stops cleanly on Ctrl-C`).toBe(0);
}

/** A row in every form the test compares: dimension, window, key, both counts. */
function rowId(dim: string, windowStart: number, key: string, from: number, to: number): string {
  return JSON.stringify([dim, windowStart, key, from, to]);
}

describe('a shadow version live beside the serving one for a minute of late events', () => {
  it(
    'keeps a live diff equal to kappa diff at the same offsets, explains every row exactly, and passes the gate',
    { timeout: 1_500_000 },
    async () => {
      const env: Record<string, string> = {
        ...pipeline('shadowlive'),
        KAPPA_WINDOW: '2s',
        KAPPA_SLIDE: '2s',
        KAPPA_WATERMARK: '2s',
      };
      const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      background(['enrich'], env, 'enrich');
      background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');
      // The generator runs live from here on, making late events; v1 serves once it has rows, then
      // v2 is recovered from what the log holds and lives on beside it.
      const ingest = background(
        ['ingest', '--rate', '15', '--late-fraction', '0.03', '--late-by', '5s'],
        env,
        'ingest',
      );
      await until(
        () => `v1 serves\n${logOf(env, 'aggregate-v1')}`,
        async () => ((await status(env)).get('v1')?.serving === true ? true : undefined),
      );
      const recover = background(['recover', '--to', 'v2', '--watermark', '10s', '--shadow'], env, 'recover-v2');
      await until(
        () => `v2 becomes a shadow\n${logOf(env, 'recover-v2')}`,
        async () => ((await status(env)).get('v2')?.state === 'shadow' ? true : undefined),
      );

      const port = await freePort();
      background(['serve', '--port', String(port)], env, 'serve');
      const api = `http://127.0.0.1:${port}`;
      await until(
        () => `the API answers\n${logOf(env, 'serve')}`,
        async () => ((await fetch(`${api}/api/health`).catch(() => undefined))?.ok === true ? true : undefined),
      );
      expect(await (await fetch(`${api}/api/shadows`)).json()).toEqual({ pairs: [{ from: 'v1', to: 'v2' }] });
      const liveDiff = async (): Promise<LiveDiffAnswer> => {
        const response = await fetch(`${api}/api/diff?from=v1&to=v2`);
        expect(response.status).toBe(200);
        return (await response.json()) as LiveDiffAnswer;
      };

      // Both versions consume the live log. The API is asked every second, as the dashboard does:
      // each pass adds the windows newly closed in both. Until a minute of event time has been
      // compared (however long the machine takes).
      const passes: string[] = [];
      let previous: LiveDiffAnswer | undefined;
      let explainedDuringRun = 0;
      const startedAt = Date.now();
      await until(
        () => `a minute of windows compared live: ${passes.length} passes, from ${passes[0]} to ${passes.at(-1)}`,
        async () => {
          const answer = await liveDiff();
          expect(answer.error).toBeNull();
          if (answer.comparedThrough !== null && answer.comparedThrough !== passes.at(-1))
            passes.push(answer.comparedThrough);
          // Incremental: compared windows never change, so no figure ever goes down.
          for (const dim of answer.dims) {
            const before = previous?.dims.find((entry) => entry.dim === dim.dim);
            expect(dim.totalFrom).toBeGreaterThanOrEqual(before?.totalFrom ?? 0);
            expect(dim.totalTo).toBeGreaterThanOrEqual(before?.totalTo ?? 0);
            expect(dim.differing + dim.onlyFrom + dim.onlyTo).toBeGreaterThanOrEqual(
              (before?.differing ?? 0) + (before?.onlyFrom ?? 0) + (before?.onlyTo ?? 0),
            );
            expect(dim.unexplained).toBe(0);
          }
          previous = answer;
          explainedDuringRun = answer.dims.reduce((sum, dim) => sum + dim.explained, 0);
          const first = Date.parse(passes[0] ?? '');
          const last = Date.parse(passes.at(-1) ?? '');
          return passes.length >= 15 && last - first >= MINUTE && Date.now() - startedAt >= MINUTE ? true : undefined;
        },
        900_000,
      );
      expect(ingest.exitCode, logOf(env, 'ingest')).toBeNull();
      expect(recover.exitCode, logOf(env, 'recover-v2')).toBeNull();
      // Rows were explained while the shadow ran, not only at the end.
      expect(explainedDuringRun).toBeGreaterThan(0);

      // Stop the generator; let enrichment and both versions drain to the end of the same log.
      await stop(ingest, 'ingest');
      const generated = (await readTopic(testKafka(context), events)).length;
      await readAtLeast(testKafka(context), stages, generated, 0, 180_000);
      const statuses = await until(
        () => `v1 and v2 consume the whole stages log`,
        async () => {
          const now = await status(env);
          return now.get('v1')?.lag === 0 && now.get('v2')?.lag === 0 ? now : undefined;
        },
      );
      const v1 = statuses.get('v1') as VersionStatus;
      expect(v1.lateEvents).toBeGreaterThan(0);
      expect(statuses.get('v2')?.state).toBe('shadow');

      // Every differing row of the windows closed in both, explained from the versions' logs.
      const explained = JSON.parse(await ok(['diff', 'v1', 'v2', '--explain', '--json'], env)) as ExplainedDiff;
      const { diff } = explained;
      expect(explained.rows.length).toBeGreaterThan(0);
      for (const row of explained.rows) {
        expect(row.exact, row.problem).toBe(true);
        expect(row.byLateness, JSON.stringify(row)).toBe(true);
        // A watermark-only change removes nothing: one event for each count the row gained.
        expect(row.events, JSON.stringify(row)).toHaveLength(row.countTo - row.countFrom);
        for (const event of row.events) expect(event.countedBy).toBe('v2');
      }
      // The late events v2 recovered, reconciled with the rows: those whose windows closed in both
      // are the user rows' deltas (tumbling windows: one window, one user row an event).
      expect(explained.late.lostInTo).toBe(0);
      expect(explained.late.recovered).toBe(v1.lateEvents);
      expect(explained.late.inClosedWindows + explained.late.inWindowsNotClosed).toBe(explained.late.recovered);
      const users = diff.tables.user;
      expect((users?.totalTo ?? 0) - (users?.totalFrom ?? 0)).toBe(explained.late.inClosedWindows);
      const userEvents = explained.rows.filter((row) => row.dim === 'user').flatMap((row) => row.events);
      expect(new Set(userEvents.map((event) => event.id)).size).toBe(explained.late.inClosedWindows);

      // The live diff at these offsets: kappa diff's figures and rows, every row explained.
      const wanted = Object.entries(diff.tables).map(([dim, table]) => ({
        dim,
        totalFrom: table.totalFrom,
        totalTo: table.totalTo,
        differing: table.differing.length,
        onlyFrom: table.onlyFrom.length,
        onlyTo: table.onlyTo.length,
        explained: table.differing.length + table.onlyFrom.length + table.onlyTo.length,
        unexplained: 0,
      }));
      const figures = (answer: LiveDiffAnswer) =>
        answer.dims.map(({ dim, totalFrom, totalTo, differing, onlyFrom, onlyTo, explained: yes, unexplained }) => ({
          dim,
          totalFrom,
          totalTo,
          differing,
          onlyFrom,
          onlyTo,
          explained: yes,
          unexplained,
        }));
      let live: LiveDiffAnswer | undefined;
      await until(
        () =>
          `the live diff reaches kappa diff's figures: ${JSON.stringify(live && figures(live))} ≠ ${JSON.stringify(wanted)}`,
        async () => {
          live = await liveDiff();
          return JSON.stringify(figures(live)) === JSON.stringify(wanted) ? live : undefined;
        },
      );
      const liveRows = (live?.dims ?? []).flatMap((dim) =>
        dim.rows.map((row) => rowId(dim.dim, Date.parse(String(row.windowStart)), row.key, row.from, row.to)),
      );
      const cliRows = explained.rows.map((row: RowExplanation) =>
        rowId(row.dim, row.windowStart, row.key, row.countFrom, row.countTo),
      );
      // Every row of every dimension is in the answer (none cut at the API's 200 rows a dimension).
      for (const dim of live?.dims ?? []) expect(dim.rows).toHaveLength(dim.differing + dim.onlyFrom + dim.onlyTo);
      expect([...liveRows].sort()).toEqual([...cliRows].sort());
      expect((live?.dims ?? []).every((dim) => dim.rows.every((row) => row.explained === true))).toBe(true);
      const metrics = await (await fetch(`${api}/metrics`)).text();
      expect(metrics).toContain(
        `kappa_shadow_diff_total{from="v1",to="v2",dim="user",version="v2"} ${users?.totalTo ?? 0}`,
      );

      // The gate: every differing row is explained by lateness, so the cutover goes through.
      const passed = await ok(['cutover', '--to', 'v2', '--require-explained'], env);
      expect(passed).toContain('is explained by lateness');
      expect(passed).toContain('readers now see v2');
      expect((await status(env)).get('v2')?.serving).toBe(true);
      await stop(recover, 'recover');
    },
  );
});
