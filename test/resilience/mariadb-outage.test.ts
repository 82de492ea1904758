import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useAggregateHarness } from '../support/aggregate-harness.js';
import { ensureMariaDb } from '../support/mariadb.js';

const { pipeline, background, produceStages, referenceFromLog, tablesOf, expectTablesToReach } =
  useAggregateHarness('outage');

/**
 * SPEC §3, "MySQL down": stopping the machine's MariaDB would break every other test using it, so
 * this file runs in its own vitest project, after all the others, alone.
 */
describe('kappa aggregate while MariaDB is down for ~10 s', () => {
  it(
    'retries, commits nothing half-done, resumes, and ends equal to the reference model',
    { timeout: 240_000 },
    async () => {
      // Small commits: many commit points, so the outage lands mid-run (by default a commit holds up to
      // 1 s of work or 50,000 records, which is this whole log).
      const env: Record<string, string> = { ...pipeline('outage'), KAPPA_COMMIT_RECORDS: '1000' };
      await produceStages(env['KAPPA_TOPIC_STAGES'] ?? '', 60_000, 5);
      const reference = await referenceFromLog(env['KAPPA_TOPIC_STAGES'] ?? '', 60_000);
      background(['aggregate', '--version', 'v1', '--dims', 'user,dept,age'], env, 'aggregate');
      while ((await tablesOf('v1')).rows.size === 0) await sleep(100);
      expect((await tablesOf('v1')).rows, 'the outage must start mid-run').not.toEqual(reference.rows);
      try {
        const stopped = spawnSync('mysqladmin', ['-h127.0.0.1', '-uroot', 'shutdown'], { encoding: 'utf8' });
        expect(stopped.status, stopped.stderr).toBe(0);
        await sleep(10_000);
      } finally {
        await ensureMariaDb();
      }
      await expectTablesToReach('v1', reference, 150_000);
      // It did meet the outage, and came through by retrying.
      expect(readFileSync(join(env['KAPPA_STATE_DIR'] ?? '', 'aggregate.log'), 'utf8')).toContain(
        'aggregation commit failed; resuming from the last committed progress',
      );
    },
  );
});
