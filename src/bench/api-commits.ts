import { setTimeout as sleep } from 'node:timers/promises';
import { MySqlSink } from '../aggregates/mysql-sink.js';
import type { PartitionProgress } from '../aggregates/sink.js';
import { keyOf } from '../model/dimensions.js';
import { enrich } from '../stages/enrich/rules.js';
import { SAMPLE_TABLES } from '../stages/enrich/sample-tables.js';
import { apiVersionSettings, REPLAY_BASE_MS } from './api-tables.js';

/**
 * Commits into v1 of the API row's tables as a live aggregator does while `kappa serve` is under
 * load: through the sink (rows and commit numbers in one transaction), one partition after another,
 * one commit every `everyMs` — each adds one event to the newest window of the last replayed
 * event's user, so the page the load reads changes at every commit. Without it the row would
 * measure a version nothing writes, which no serving version is.
 */
export async function commitLikeAnAggregator(
  mysqlUrl: string,
  stagesTopic: string,
  options: { everyMs: number; partitions?: number; events?: number },
): Promise<{ stop(): Promise<number> }> {
  const { everyMs, partitions = 3, events = 1_000_000 } = options;
  const settings = apiVersionSettings(stagesTopic);
  const sink = await MySqlSink.open(mysqlUrl, 'v1', stagesTopic);
  await sink.prepare({ version: 'v1', settings });
  const progress: PartitionProgress[] = [];
  for (let partition = 0; partition < partitions; partition += 1) progress.push(await sink.load(partition));
  const last = REPLAY_BASE_MS + events - 1;
  const windowStart = last - (last % settings.window.sizeMs);
  const key = keyOf('user', enrich({ id: events - 1, hello: 'x', time: '' }, SAMPLE_TABLES));
  let running = true;
  let commits = 0;
  const loop = (async () => {
    while (running) {
      const partition = commits % partitions;
      const from = progress[partition];
      if (from === undefined) break;
      const nextOffset = from.nextOffset + 1n;
      const ok = await sink.commit({
        partition,
        expected: { nextOffset: from.nextOffset, seq: from.seq },
        nextOffset,
        rows: [{ windowStart, windowEnd: windowStart + settings.window.sizeMs, dim: 'user', key, count: 1 }],
        snapshot: { maxEventTime: null, lateEvents: 0, lateWindows: 0, open: [] },
        lateEvents: 0,
        lateWindows: 0,
        badRecords: 0,
        watermark: null,
      });
      if (!ok) throw new Error(`the bench's commits into v1 found partition ${partition}'s progress moved`);
      progress[partition] = { ...from, nextOffset, seq: from.seq + 1 };
      commits += 1;
      await sleep(everyMs);
    }
  })();
  loop.catch(() => undefined); // its failure is thrown by stop(), not as an unhandled rejection meanwhile
  return {
    async stop() {
      running = false;
      try {
        await loop;
      } finally {
        await sink.close();
      }
      return commits;
    },
  };
}
