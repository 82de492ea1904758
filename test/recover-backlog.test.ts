import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { committedOffsets, endOffsets } from '../src/kafka/offsets.js';
import { enrichGroup } from '../src/kafka/topics.js';
import { Catalog } from '../src/recovery/catalog.js';
import type { VersionStatus } from '../src/recovery/operations.js';
import { createLogger } from '../src/shared/logger.js';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { kappaAsync, type CliResult } from './support/cli.js';
import { testKafka } from './support/context.js';
import { readTopic } from './support/read-topic.js';

// `recover --watermark 60s` with the default 10 s tumbling windows: the reference model's settings too.
const { context, pipeline, background, produceStages, referenceFromLogUpTo, tablesOf } = useAggregateHarness(
  'recover-backlog',
  { sizeMs: 10_000, slideMs: 10_000, delayMs: 60_000 },
);

const BACKLOG = 100_000;
const LIVE_RATE = 200;
/** Timing goes to the test's output, never into an assertion (performance is `npm run bench`'s). */
const figures = createLogger('info', 'recover-backlog');

async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await kappaAsync(args, env, 180_000);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function status(env: Record<string, string>): Promise<Map<string, VersionStatus>> {
  const statuses = JSON.parse(await ok(['status', '--json'], env)) as VersionStatus[];
  return new Map(statuses.map((entry) => [entry.version, entry]));
}

/** Polls `kappa status --json` until `version`'s entry passes `done`. */
async function statusUntil(
  env: Record<string, string>,
  version: string,
  done: (entry: VersionStatus) => boolean,
  timeoutMs = 120_000,
): Promise<VersionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entry = (await status(env)).get(version);
    if (entry !== undefined && done(entry)) return entry;
    if (Date.now() > deadline) throw new Error(`${version}: ${JSON.stringify(entry)}`);
    await sleep(500);
  }
}

/** The topic's end offsets as `recover` sees them (kafkajs lists read_committed ends: last stable offsets). */
async function ends(topic: string): Promise<Map<number, bigint>> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    return await endOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the enrichment stage has committed everything in the events topic. */
async function enriched(events: string, stages: string): Promise<void> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    for (;;) {
      const [done, all] = [await committedOffsets(admin, enrichGroup(stages), events), await endOffsets(admin, events)];
      if ([...all].every(([partition, end]) => (done.get(partition) ?? 0n) >= end)) return;
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

const total = (offsets: ReadonlyMap<number, bigint>) => [...offsets.values()].reduce((sum, next) => sum + next, 0n);

async function progressOf(version: string, topic: string): Promise<Map<number, bigint>> {
  const catalog = await Catalog.open(context.mysqlUrl);
  try {
    return new Map(await catalog.offsets(version, topic));
  } finally {
    await catalog.close();
  }
}

interface TimedRun {
  readonly result: CliResult;
  readonly ms: number;
  /** From the command's log lines, ms after it was spawned: its aggregator running, its stop decided. */
  readonly runningAt: number | undefined;
  readonly decidedAt: number | undefined;
  /** When (ms after the spawn, polled every 100 ms) the version's progress first covered the backlog. */
  readonly backlogConsumedAt: number | undefined;
  /** What its aggregator counted this run: events in, window rows written. */
  readonly aggregated: { readonly in?: number; readonly rows?: number } | undefined;
}

/** Polls a version's progress until it covers `backlog` in every partition: when it did (Date.now()). */
async function consumedAt(
  version: string,
  topic: string,
  backlog: ReadonlyMap<number, bigint>,
  stop: AbortSignal,
): Promise<number | undefined> {
  const catalog = await Catalog.open(context.mysqlUrl);
  try {
    while (!stop.aborted) {
      const progress = await catalog.offsets(version, topic).catch(() => new Map<number, bigint>());
      if ([...backlog].every(([partition, end]) => (progress.get(partition) ?? 0n) >= end)) return Date.now();
      await sleep(100);
    }
    return undefined;
  } finally {
    await catalog.close();
  }
}

/**
 * Runs `kappa recover --to <version> …` and times it, with the phases its log lines show and when
 * its progress covered `backlog`. After `timeoutMs` the command is killed with SIGKILL (code null):
 * a replay that does not end by itself fails the test — a SIGTERM would let it stop cleanly and
 * exit 0 — and leaves no process behind.
 */
async function timedRecover(
  args: readonly string[],
  env: Record<string, string>,
  backlog: ReadonlyMap<number, bigint>,
  timeoutMs: number,
): Promise<TimedRun> {
  const version = args[args.indexOf('--to') + 1] ?? '';
  const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
  const spawnedAt = Date.now();
  const done = new AbortController();
  const watching = consumedAt(version, stages, backlog, done.signal);
  const result = await kappaAsync(['recover', ...args], env, timeoutMs, 'SIGKILL').finally(() => done.abort());
  const ms = Date.now() - spawnedAt;
  const consumed = await watching;
  const entries = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { time?: number; msg?: string; in?: number; rows?: number });
  const first = (messages: readonly string[]) =>
    entries.find((entry) => messages.some((message) => entry.msg?.startsWith(message) === true));
  const at = (messages: readonly string[]) => {
    const time = first(messages)?.time;
    return time === undefined ? undefined : time - spawnedAt;
  };
  return {
    result,
    ms,
    runningAt: at(['aggregation running']),
    backlogConsumedAt: consumed === undefined ? undefined : consumed - spawnedAt,
    decidedAt: at(['backlog done', 'caught up']),
    aggregated: first(['aggregation stopped']),
  };
}

/** Every partition of `progress` at least at `floor` and at most at `ceiling`. */
function expectBetween(
  progress: ReadonlyMap<number, bigint>,
  floor: ReadonlyMap<number, bigint>,
  ceiling: ReadonlyMap<number, bigint>,
): void {
  for (const [partition, end] of floor) {
    const next = progress.get(partition) ?? 0n;
    expect(next, `partition ${partition}: consumed to the end offsets seen before the command`).toBeGreaterThanOrEqual(
      end,
    );
    expect(next, `partition ${partition}`).toBeLessThanOrEqual(ceiling.get(partition) ?? 0n);
  }
}

describe('recover --until-caught-up ends on a live log (issue 16 item 2)', () => {
  it(
    'replays a 100k backlog while a generator writes 200 ev/s: backlog done, then caught up once the log stops',
    { timeout: 300_000 },
    async () => {
      const env = pipeline('live');
      const events = env['KAPPA_TOPIC_EVENTS'] ?? '';
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';

      // The backlog, straight into the stages topic, and a live generator through the enrichment
      // stage. v1 serves (so `status` shows v2's own state) and is stopped: not needed beyond that.
      await produceStages(stages, BACKLOG, 16);
      background(['enrich'], env, 'enrich');
      const v1 = background(['aggregate', '--version', 'v1'], env, 'aggregate-v1');
      const live = background(['ingest', '--rate', String(LIVE_RATE)], env, 'live-generator');
      const liveExited = once(live, 'exit');
      const catalog = await Catalog.open(context.mysqlUrl);
      try {
        while ((await catalog.serving().catch(() => undefined)) !== 'v1') await sleep(250);
      } finally {
        await catalog.close();
      }
      v1.kill('SIGINT');
      await once(v1, 'exit');
      while (total(await ends(stages)) < BigInt(BACKLOG + LIVE_RATE)) {
        expect(live.exitCode).toBeNull();
        await sleep(250);
      }

      // The backlog's plain read time: every record from offset 0, under the same load.
      const readStarted = Date.now();
      const read = await readTopic(testKafka(context), stages);
      const readMs = Date.now() - readStarted;
      expect(read.length).toBeGreaterThanOrEqual(BACKLOG);

      // The command's fixed start-up: the CLI loading its modules (through tsx) with nothing to do.
      const helpStarted = Date.now();
      await ok(['recover', '--help'], env);
      const helpMs = Date.now() - helpStarted;

      const before = await ends(stages);
      const replay = await timedRecover(
        ['--to', 'v2', '--watermark', '60s', '--until-caught-up'],
        env,
        before,
        180_000,
      );
      const after = await ends(stages);
      expect(live.exitCode, 'the generator still writes').toBeNull();
      figures.info(
        {
          records: read.length,
          readMs,
          commandMs: replay.ms,
          ratio: Number((replay.ms / readMs).toFixed(2)),
          cliStartMs: helpMs,
          aggregatorRunningAtMs: replay.runningAt,
          backlogConsumedAtMs: replay.backlogConsumedAt,
          stopDecidedAtMs: replay.decidedAt,
          eventsAggregated: replay.aggregated?.in,
          rowsWritten: replay.aggregated?.rows,
          liveRecordsDuringCommand: Number(total(after) - total(before)),
        },
        'recover --until-caught-up on a live log, against a plain read of the log',
      );
      expect(replay.result.code, replay.result.stderr).toBe(0);
      // At 200 ev/s the replay usually also finds no lag at the tick that sees the backlog done, so
      // this case alone does not tell "backlog done" from "lag 0 now" as the stopping rule: the
      // next test does.
      expect(replay.result.stdout).toMatch(/^recover v2: (backlog done|caught up) at /m);

      // It consumed everything in the log before it started, and stopped (nothing past the end after it exited).
      const progress = await progressOf('v2', stages);
      expectBetween(progress, before, after);

      // `status` tells backlog done (the log has grown since) from caught up (no lag now).
      const v2 = await statusUntil(env, 'v2', (entry) => entry.lag > 0);
      expect(v2).toMatchObject({ state: 'backlog-done', serving: false, processed: Number(total(progress)) });

      // v2's tables are the reference model over the log up to where it stopped: nothing lost or twice.
      const tables = await tablesOf('v2');
      const reference = await referenceFromLogUpTo(stages, progress);
      expect(reference.rows.size).toBeGreaterThan(0);
      expect(tables.rows).toEqual(reference.rows);
      expect(tables.late).toBe(reference.late);

      // The generator stops; once the enrichment has passed all it wrote, the same command resumes
      // v2 and ends with no lag: caught up.
      live.kill('SIGINT');
      await liveExited;
      await enriched(events, stages);
      expect(await ok(['recover', '--to', 'v2', '--watermark', '60s', '--until-caught-up'], env)).toMatch(
        /^recover v2: caught up at /m,
      );
      const versions = await status(env);
      expect(versions.get('v2')).toMatchObject({ state: 'caught-up', lag: 0 });
      expect(versions.get('v1')).toMatchObject({ state: 'serving', serving: true });
    },
  );

  it(
    'ends even when the log grows faster than the replay reads it (lag is never 0)',
    { timeout: 150_000 },
    async () => {
      // One commit per record: the replay reads far slower than a plain producer writes, on any
      // machine. With "caught up" meaning lag 0 now, it would chase the writer as long as it writes.
      const env: Record<string, string> = { ...pipeline('outpaced'), KAPPA_COMMIT_RECORDS: '1' };
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      const backlog = 3_000;
      const cap = 1_000_000;
      await produceStages(stages, backlog, 17);
      const before = await ends(stages);
      const stop = new AbortController();
      const command = timedRecover(['--to', 'v3', '--watermark', '60s', '--until-caught-up'], env, before, 90_000);
      // The writer starts once v3 commits progress: the command has read its end offsets by then (at
      // its start, before its aggregator has even joined the group), so the backlog stays 3,000.
      let settled = false;
      void command.finally(() => (settled = true));
      while (!settled && (await progressOf('v3', stages).catch(() => new Map())).size === 0) await sleep(100);
      const writer = produceStages(stages, cap, 17, { from: backlog, pauseMs: 200, signal: stop.signal });
      try {
        const replay = await command;
        const after = await ends(stages);
        stop.abort();
        const written = await writer;
        const progress = await progressOf('v3', stages);
        figures.info(
          {
            commandMs: replay.ms,
            aggregatorRunningAtMs: replay.runningAt,
            backlogConsumedAtMs: replay.backlogConsumedAt,
            stopDecidedAtMs: replay.decidedAt,
            writtenDuringCommand: Number(total(after) - total(before)),
            consumedPastBacklog: Number(total(progress) - total(before)),
          },
          'recover --until-caught-up while a writer outpaces it',
        );
        expect(replay.result.code, replay.result.stderr).toBe(0);
        expect(written, 'the writer was still writing when the command ended').toBeLessThan(cap);
        // It never saw lag 0: only the backlog's end can have stopped it.
        expect(replay.result.stdout).toMatch(/^recover v3: backlog done at /m);
        expectBetween(progress, before, after);
        expect(total(progress)).toBeLessThan(total(after));
      } finally {
        stop.abort();
        await writer.catch(() => undefined);
      }
    },
  );
});
