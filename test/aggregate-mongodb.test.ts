import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useAggregateHarness } from './support/aggregate-harness.js';

const { pipeline, background, produceStages, referenceFromLog, collectionsOf, tablesOf, expectTablesToReach } =
  useAggregateHarness('aggregate-mongodb');

describe('kappa aggregate --sink mongodb against the real broker and the MongoDB stand-in', () => {
  it(
    'two instances, one killed -9 mid-stream and restarted: the collections equal the reference model',
    { timeout: 180_000 },
    async () => {
      // Small commits: many commit points, so the kill lands mid-stream (by default a commit holds up
      // to 1 s of work or 50,000 records, which is this whole log).
      const env: Record<string, string> = { ...pipeline('mongo'), KAPPA_SINK: 'mongodb', KAPPA_COMMIT_RECORDS: '500' };
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 30_000, 5);
      const full = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 30_000);
      const reference = { rows: new Map([...full.rows].filter(([key]) => key.includes('|user|'))), late: full.late };
      const collections = (version: string) => collectionsOf(version, ['user']);
      expect([...reference.rows.keys()].some((key) => key.endsWith('|user|Kim'))).toBe(true);
      // The user dimension only: mongo-java-server scans the whole collection for every guarded
      // update (real MongoDB uses the _id index), so the stand-in is kept to a few hundred documents.
      const args = ['aggregate', '--version', 'v1', '--dims', 'user'];
      const doomed = background(args, env, 'aggregate-a');
      background(args, env, 'aggregate-b');
      while ((await collections('v1')).rows.size === 0) await sleep(100);
      await sleep(211);
      doomed.kill('SIGKILL');
      await new Promise((resolve) => doomed.once('exit', resolve));
      expect((await collections('v1')).rows, 'the kill must land before the end').not.toEqual(reference.rows);
      background(args, env, 'aggregate-a2');
      await expectTablesToReach('v1', reference, 120_000, collections);
      // The MongoDB sink wrote nothing to MySQL.
      expect((await tablesOf('v1')).rows.size).toBe(0);
    },
  );
});
