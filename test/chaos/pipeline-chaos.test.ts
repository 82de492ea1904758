import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { startBroker, stopBroker } from '../../src/stack/broker.js';
import { useAggregateHarness } from '../support/aggregate-harness.js';
import { cleanEnv, KAPPA_BIN, kappaAsync } from '../support/cli.js';
import { testKafka } from '../support/context.js';
import { ensureMariaDb } from '../support/mariadb.js';
import { readAtLeast, readTopic } from '../support/read-topic.js';
import { seededRandom } from '../support/seeded-random.js';
import { supervise } from '../support/supervise.js';

// Windows of 2 s and a 2 s delay: the run's ~20 s of event time closes windows, so `kappa verify` compares some.
const SETTINGS = { sizeMs: 2_000, slideMs: 2_000, delayMs: 2_000 };
const WINDOW_ENV = { KAPPA_WINDOW: '2s', KAPPA_SLIDE: '2s', KAPPA_WATERMARK: '2s' };
const { context, pipeline, referenceFromEvents, expectTablesToReach } = useAggregateHarness('chaos', SETTINGS);
const SEEDS = (process.env['CHAOS_SEEDS'] ?? '1,2,3').split(',').map(Number);

/** `kappa ingest` to completion, as a process; resolves with its exit code. */
function ingest(
  args: readonly string[],
  env: Record<string, string>,
  label: string,
): { child: ChildProcess; done: Promise<number | null> } {
  const log = openSync(join(env['KAPPA_STATE_DIR'] ?? '', `${label}.log`), 'a');
  const child = spawn(process.execPath, [KAPPA_BIN, 'ingest', ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', log, log],
  });
  return { child, done: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

describe('chaos: the whole pipeline under kill -9, a broker restart and a MariaDB outage', () => {
  it.each(SEEDS)(
    'seed %i: every id once in events and events_stages, and the tables equal the reference model',
    async (seed) => {
      const rand = seededRandom(seed);
      const env: Record<string, string> = { ...pipeline(`chaos${seed}`), ...WINDOW_ENV, KAPPA_LOG_LEVEL: 'info' };
      const version = `v${seed}`;
      const events: string[] = [];
      const restartBroker = inject('kafkaRestart');
      const at = (ms: number, what: string, action: () => Promise<unknown>) =>
        sleep(ms).then(async () => {
          events.push(`${ms} ms: ${what}`);
          await action();
        });

      const enrich = supervise(['enrich'], env, 'enrich', events);
      const aggregate = supervise(
        ['aggregate', '--version', version, '--dims', 'user,dept,age'],
        env,
        'aggregate',
        events,
      );
      try {
        // The generator, run again whenever a run does not complete (killed, or started while the
        // broker was down), like a service manager would; each run adds its --count events.
        let generator: ReturnType<typeof ingest> | undefined;
        const generating = (async () => {
          for (let run = 1; run <= 10; run += 1) {
            generator = ingest(['--count', run === 1 ? '12000' : '3000', '--rate', '600'], env, `ingest-${run}`);
            const code = await generator.done;
            events.push(`generator run ${run} exited ${code ?? 'by signal'}`);
            if (code === 0) return;
            await sleep(1_000);
          }
          throw new Error(`the generator never completed a run:\n${events.join('\n')}`);
        })();
        const chaos = Promise.all([
          at(rand(3_000, 12_000), 'kill -9 the generator', () => Promise.resolve(generator?.child.kill('SIGKILL'))),
          at(rand(3_000, 15_000), 'kill -9 enrich', () => Promise.resolve(enrich.kill9())),
          at(rand(3_000, 15_000), 'kill -9 aggregate', () => Promise.resolve(aggregate.kill9())),
          at(rand(5_000, 14_000), 'restart the broker (down 5 s)', async () => {
            await stopBroker({ stateDir: restartBroker.stateDir, timeoutMs: 30_000 });
            await sleep(5_000);
            await startBroker({ ...restartBroker, startTimeoutMs: 120_000, logger: createLogger('warn', 'chaos') });
          }),
          at(rand(5_000, 14_000), 'stop MariaDB (down 5 s)', async () => {
            spawnSync('mysqladmin', ['-h127.0.0.1', '-uroot', 'shutdown']);
            await sleep(5_000);
            await ensureMariaDb();
          }),
        ]);
        await chaos;
        await generating;

        // events: ids 0..n-1, each exactly once.
        const raw = await readTopic(testKafka(context), env['KAPPA_TOPIC_EVENTS'] ?? '');
        const ids = raw.map((message) => Number(message.key)).sort((a, b) => a - b);
        expect(new Set(ids).size, events.join('\n')).toBe(ids.length);
        expect(ids.at(-1), 'contiguous ids').toBe(ids.length - 1);
        expect(ids.length).toBeGreaterThanOrEqual(3_000);

        // events_stages: every id exactly once (read_committed).
        const stages = await readAtLeast(
          testKafka(context),
          env['KAPPA_TOPIC_STAGES'] ?? '',
          ids.length,
          3_000,
          240_000,
        );
        const registry = new SchemaRegistry({ host: env['KAPPA_REGISTRY_URL'] ?? '' });
        const stageIds = (
          await Promise.all(
            stages.map(async (message) => ((await registry.decode(message.value)) as { id: number }).id),
          )
        ).sort((a, b) => a - b);
        expect(stageIds, events.join('\n')).toEqual(ids);

        // verify first: a replay of the same log from offset 0 has the window digests of the version
        // that lived through the chaos, over every window the replay closed (polled while the live
        // version catches up after its last kill: until then it has closed fewer, never other ones).
        const replayed = `v${seed}0`;
        const recovered = await kappaAsync(
          ['recover', '--to', replayed, '--dims', 'user,dept,age', '--until-caught-up'],
          env,
          240_000,
        );
        expect(recovered.code, recovered.stderr).toBe(0);
        const verified = async (a: string, b: string) => {
          const result = await kappaAsync(['verify', a, b], env);
          const windows = /identical over ([\d,]+) windows/.exec(result.stdout)?.[1];
          expect(windows, `${result.stdout}${result.stderr}\n${events.join('\n')}`).toBeDefined();
          return Number(windows?.replaceAll(',', ''));
        };
        const closedByReplay = await verified(replayed, replayed);
        expect(closedByReplay).toBeGreaterThan(0);
        const deadline = Date.now() + 240_000;
        while ((await verified(version, replayed)) < closedByReplay && Date.now() < deadline) await sleep(2_000);
        expect(await verified(version, replayed)).toBe(closedByReplay);

        // The tables: exactly the reference model over the *events* log, per events partition in
        // produced order — what an uninterrupted pipeline gives, whatever the kills did to batching.
        await expectTablesToReach(version, await referenceFromEvents(env['KAPPA_TOPIC_EVENTS'] ?? ''), 240_000);
        expect(enrich.restarts() + aggregate.restarts()).toBeGreaterThanOrEqual(2);
      } finally {
        await Promise.all([enrich.stop(), aggregate.stop()]);
        await ensureMariaDb();
      }
    },
  );
});
