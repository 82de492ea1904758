import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useAggregateHarness } from './support/aggregate-harness.js';
import { testKafka } from './support/context.js';
import { readAtLeast } from './support/read-topic.js';

// A short-window version, so an outage of a few seconds is several watermarks long.
const SETTINGS = { sizeMs: 1_000, slideMs: 1_000, delayMs: 2_000 };
const { context, pipeline, background, referenceFromEvents, expectTablesToReach, tablesOf } = useAggregateHarness(
  'outage',
  SETTINGS,
);

const EVENTS = 4_000;

async function waitForTopic(topic: string, timeoutMs = 60_000): Promise<void> {
  const admin = testKafka(context).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`${topic} was not created in ${timeoutMs} ms`);
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * SPEC §3: a stopped or killed enrichment stage, restarted after a backlog built up, leaves the
 * tables exactly as an uninterrupted run would — it must not turn its backlog into late events.
 * The generator injects no lateness, so the version must report none.
 */
describe('an enrichment outage longer than the watermark', () => {
  it.each([
    ['stopped (SIGTERM)', 'SIGTERM', 'v1'],
    ['killed (SIGKILL)', 'SIGKILL', 'v2'],
  ] as const)(
    '%s and restarted: 0 late events, tables equal the model over the events log',
    async (_label, signal, version) => {
      const env: Record<string, string> = {
        ...pipeline(`outage-${signal.toLowerCase()}`),
        KAPPA_WINDOW: '1s',
        KAPPA_SLIDE: '1s',
        KAPPA_WATERMARK: '2s',
      };
      const stages = env['KAPPA_TOPIC_STAGES'] ?? '';
      const aggregate = background(['aggregate', '--version', version, '--dims', 'user,dept,age'], env, 'aggregate');
      const first = background(['enrich'], env, 'enrich-1');
      const generator = background(
        ['ingest', '--count', String(EVENTS), '--rate', '200', '--late-fraction', '0'],
        env,
        'ingest',
      );

      // The outage: four watermarks (8 s) of backlog in every events partition.
      await waitForTopic(stages);
      await readAtLeast(testKafka(context), stages, 500, 0);
      first.kill(signal);
      await exitOf(first);
      await sleep(4 * SETTINGS.delayMs);
      background(['enrich'], env, 'enrich-2');

      expect(await exitOf(generator), 'the generator completes').toBe(0);
      const reference = await referenceFromEvents(env['KAPPA_TOPIC_EVENTS'] ?? '');
      expect(reference.late, 'the generator produced no late event').toBe(0);
      expect(reference.rows.size).toBeGreaterThan(0);
      await expectTablesToReach(version, reference, 120_000);
      expect((await tablesOf(version)).late).toBe(0);
      aggregate.kill('SIGTERM');
      await exitOf(aggregate);
    },
    240_000,
  );
});
