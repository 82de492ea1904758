import { performance } from 'node:perf_hooks';
import { createConnection } from 'mysql2/promise';
import { rebuildDigests } from '../aggregates/digest-store.js';
import { jobNames } from '../aggregates/job-names.js';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import { Catalog } from '../recovery/catalog.js';
import { diffVersions } from '../recovery/operations.js';
import { verifyVersions } from '../recovery/verify.js';
import { apiVersionSettings, fillApiTables, REPLAY_BASE_MS } from './api-tables.js';

export interface VerifyBench {
  readonly rows: number;
  readonly windows: number;
  /** Medians of `rounds` runs, each on the same two versions. */
  readonly verifyMs: number;
  readonly diffMs: number;
  readonly identical: boolean;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * `kappa verify v1 v2` against `kappa diff v1 v2` on the tables a 1,000,000-event replay leaves
 * (api-tables.ts fills v1; v2 is a copy, as an identical replay leaves it): the digests are rebuilt
 * from the tables by the same formula the sink maintains (window-digest.ts). `mysqlUrl`'s database
 * must be empty.
 */
export async function benchVerify(mysqlUrl: string, stagesTopic: string, rounds = 3): Promise<VerifyBench> {
  await fillApiTables(mysqlUrl, stagesTopic);
  const settings = apiVersionSettings(stagesTopic);
  const sink = await MySqlSink.open(mysqlUrl, 'v2', stagesTopic);
  await sink.prepare({ version: 'v2', settings }).finally(() => sink.close());
  const connection = await createConnection({ uri: mysqlUrl, timezone: 'Z' });
  let rows = 0;
  try {
    for (const dim of settings.dims) {
      const [from, to] = [jobNames('v1').table(dim), jobNames('v2').table(dim)];
      await connection.query(`INSERT INTO \`${to}\` SELECT * FROM \`${from}\``);
      const [[counted]] = (await connection.query(`SELECT COUNT(*) AS n FROM \`${from}\``)) as unknown as [
        [{ n: number }],
      ];
      rows += Number(counted.n);
      for (const version of ['v1', 'v2']) await rebuildDigests(connection, version, dim);
    }
    // Every window closed in both: one partition each, its watermark past the replay's last event.
    for (const version of ['v1', 'v2'])
      await connection.query(
        `INSERT INTO kappa_progress (version, topic, partition_id, next_offset, late_events, watermark_ms, snapshot, updated_at)
         VALUES (?, ?, 0, 1000000, 0, ?, '{}', UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE watermark_ms = VALUES(watermark_ms)`,
        [version, stagesTopic, REPLAY_BASE_MS + 2_000_000],
      );
  } finally {
    await connection.end();
  }
  const catalog = await Catalog.open(mysqlUrl);
  try {
    const [verifyTimes, diffTimes] = [[] as number[], [] as number[]];
    let last: Awaited<ReturnType<typeof verifyVersions>> | undefined;
    for (let round = 0; round < rounds; round += 1) {
      let started = performance.now();
      last = await verifyVersions(catalog, 'v1', 'v2');
      verifyTimes.push(performance.now() - started);
      started = performance.now();
      await diffVersions(catalog, 'v1', 'v2');
      diffTimes.push(performance.now() - started);
    }
    return {
      rows,
      windows: last?.windows ?? 0,
      verifyMs: Math.round(median(verifyTimes)),
      diffMs: Math.round(median(diffTimes)),
      identical: last?.identical ?? false,
    };
  } finally {
    await catalog.close();
  }
}
