import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceModel } from '../../test/support/reference-model.js';
import {
  AggregationDriver,
  type AggregateMetrics,
  type StagedRecord,
  type TopicMessages,
} from './aggregation-driver.js';
import type { Classified } from './batch-plan.js';
import { MemorySink } from './memory-sink.js';
import type { KeyedEvent } from './window-engine.js';
import type { WindowSettings } from '../model/window-settings.js';

/**
 * The aggregator driven without a broker (like Kafka Streams' TopologyTestDriver): records are
 * JSON `{time, user}` (or not JSON: a bad record), batches are fed by hand, and what the sink holds
 * is compared with the reference model of SPEC §1.3.
 */

const TUMBLING: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 };

function record(offset: number, event: KeyedEvent | string): StagedRecord {
  const text = typeof event === 'string' ? event : JSON.stringify({ time: event.time, user: event.keys['user'] });
  return { offset: BigInt(offset), timestampMs: 0, key: null, value: Buffer.from(text) };
}

function classifyJson(staged: StagedRecord): Classified {
  try {
    const { time, user } = JSON.parse(staged.value?.toString() ?? '') as { time: number; user: string };
    return { kind: 'event', event: { time, keys: { user } } };
  } catch {
    return { kind: 'bad', reason: 'undecodable', detail: 'not JSON' };
  }
}

interface Harness {
  readonly sink: MemorySink;
  readonly sent: TopicMessages[];
  readonly driver: (options?: {
    failSend?: () => boolean;
    maxRows?: number;
    maxRecords?: number;
    onCommitted?: () => void;
    metrics?: AggregateMetrics;
    logStart?: (partition: number) => Promise<bigint>;
  }) => AggregationDriver;
}

function harness(settings: WindowSettings = TUMBLING): Harness {
  const sink = new MemorySink();
  const sent: TopicMessages[] = [];
  return {
    sink,
    sent,
    driver: (options = {}) =>
      new AggregationDriver({
        version: 'v1',
        stagesTopic: 'stages',
        settings,
        sink,
        classify: classifyJson,
        publish: (batches) => {
          if (options.failSend?.() === true) return Promise.reject(new Error('broker down'));
          sent.push(...batches);
          return Promise.resolve();
        },
        lateTopic: 'stages.late',
        deadLetterTopic: 'stages.dlq',
        limits: { maxRows: options.maxRows ?? 1_000, maxRecords: options.maxRecords ?? 7, maxMs: 1e12 },
        clock: () => 0,
        ...(options.onCommitted === undefined ? {} : { onCommitted: options.onCommitted }),
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        ...(options.logStart === undefined ? {} : { logStart: options.logStart }),
      }),
  };
}

const at = (seconds: number, user = 'Kim'): KeyedEvent => ({ time: seconds * 1_000, keys: { user } });

function log(events: readonly (KeyedEvent | string)[]): StagedRecord[] {
  return events.map((event, offset) => record(offset, event));
}

describe('AggregationDriver', () => {
  it('commits what the reference model says, however the log is cut into batches, and never counts a re-delivered record twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 90 }), fc.constantFrom('Kim', 'Lee')), { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        async (times, cuts, backlogs) => {
          const events = times.map(([seconds, user]) => at(seconds, user));
          const records = log(events);
          const { sink, driver } = harness();
          const instance = driver();
          let from = 0;
          for (let index = 0; from < records.length; index += 1) {
            const size = cuts[index % cuts.length] ?? 1;
            // Each batch starts a little before where the last one ended: kafkajs re-delivers.
            const start = Math.max(0, from - 2);
            // Batches with a backlog behind them may leave their tail uncommitted; the last has none.
            const backlog = from + size < records.length && backlogs[index % backlogs.length] === true;
            await instance.batch(0, records.slice(start, from + size), { from: BigInt(start), backlog });
            from += size;
          }
          const expected = referenceModel([events], TUMBLING);
          expect(sink.totals).toEqual(expected.rows);
          expect(sink.progress.get(0)?.lateEvents ?? 0).toBe(expected.late);
          expect(sink.progress.get(0)?.nextOffset ?? 0n).toBe(BigInt(records.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('commits with each progress the records it read by writer schema id: exact through re-deliveries, carried work and failed commits', async () => {
    const framed = (offset: number, schemaId: number): StagedRecord => {
      const value = Buffer.from([0, 0, 0, 0, 0, 120]);
      value.writeInt32BE(schemaId, 1);
      return { offset: BigInt(offset), timestampMs: 0, key: null, value };
    };
    const countsOf = (records: readonly StagedRecord[]) => {
      const counts = new Map<number | null, number>();
      for (const { value } of records) {
        const id = value !== null && value[0] === 0 ? value.readInt32BE(1) : null;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 90 }).map((seconds) => at(seconds)),
            fc.constantFrom(7, 8),
          ),
          {
            maxLength: 60,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        async (items, cuts, backlogs, failures) => {
          const records = items.map((item, offset) =>
            typeof item === 'number' ? framed(offset, item) : record(offset, item),
          );
          const { sink, driver } = harness();
          const instance = driver();
          const feed = async (index: number, fail: boolean) => {
            const size = cuts[index % cuts.length] ?? 1;
            const start = Math.max(0, position - 2); // kafkajs re-delivers
            const end = Math.min(records.length, position + size);
            const backlog = end < records.length && backlogs[index % backlogs.length] === true;
            sink.failNext = fail ? 1 : 0;
            const outcome = await instance
              .batch(0, records.slice(start, end), { from: BigInt(start), backlog })
              .catch(() => undefined);
            sink.failNext = 0;
            position = outcome?.kind === 'seek' ? Number(outcome.offset) : end;
          };
          let position = 0;
          // Failures may throw the driver back any number of times: a bounded number of fetches.
          for (let index = 0; position < records.length && index < 3 * records.length; index += 1)
            await feed(index, failures[index % failures.length] === true);
          // Until the whole log is committed, without failures (the last commit may have failed).
          for (
            let index = 0;
            (sink.progress.get(0)?.nextOffset ?? 0n) < BigInt(records.length) && index < 3 * records.length;
            index += 1
          ) {
            if (position >= records.length) position = Number(sink.progress.get(0)?.nextOffset ?? 0n);
            await feed(index, false);
          }
          for (const commit of sink.commits)
            expect(commit.schemaCounts).toEqual(countsOf(records.slice(0, Number(commit.nextOffset))));
          expect(sink.progress.get(0)?.nextOffset ?? 0n).toBe(BigInt(records.length));
          expect(sink.progress.get(0)?.schemaCounts ?? new Map()).toEqual(countsOf(records));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not count in a partition whose progress was committed without counts: what it read before is unknown', async () => {
    const { sink, driver } = harness();
    sink.progress.set(0, {
      nextOffset: 3n,
      seq: 1,
      badRecords: 0,
      lateEvents: 0,
      lateWindows: 0,
      snapshot: { maxEventTime: null, lateEvents: 0, open: [] },
    });
    const records = log([at(1), at(2), at(3), at(4), at(30)]);
    await driver().batch(0, records, { from: 0n });
    expect(sink.progress.get(0)?.nextOffset).toBe(5n);
    expect(sink.commits.map((commit) => commit.schemaCounts)).toEqual([undefined]);
  });

  it('while catching up commits by its limits, not per batch; a batch with no backlog behind it commits at once', async () => {
    const { sink, driver } = harness();
    const instance = driver({ maxRecords: 10 });
    const records = log(Array.from({ length: 24 }, (_, index) => at(index)));
    for (let start = 0; start < 18; start += 3)
      await instance.batch(0, records.slice(start, start + 3), { from: BigInt(start), backlog: true });
    // 18 records in six batches: one commit, after the 10th record (mid-batch); the rest waits for its limit.
    expect(sink.commits.map((commit) => commit.nextOffset)).toEqual([10n]);
    await instance.batch(0, records.slice(18), { from: 18n });
    expect(sink.commits.map((commit) => commit.nextOffset)).toEqual([10n, 20n, 24n]);
    expect(sink.totals).toEqual(referenceModel([records.map((r) => classifyJson(r)).map(eventOf)], TUMBLING).rows);
  });

  it('commits by processing time too, looking at the clock once every 256 records (not per record)', async () => {
    const sink = new MemorySink();
    let now = 0;
    const instance = new AggregationDriver({
      version: 'v1',
      stagesTopic: 'stages',
      settings: TUMBLING,
      sink,
      classify: classifyJson,
      publish: () => Promise.resolve(),
      deadLetterTopic: 'stages.dlq',
      limits: { maxRows: 1_000, maxRecords: 1e9, maxMs: 1_000 },
      // Every look at the clock finds a second more gone: each one that is taken is due.
      clock: () => (now += 1_000),
    });
    const records = log(Array.from({ length: 1_000 }, (_, index) => at(index / 100)));
    await instance.batch(0, records, { from: 0n, backlog: true });
    expect(sink.commits.map((commit) => commit.nextOffset)).toEqual([256n, 512n, 768n]);
    await instance.batch(0, log(Array.from({ length: 1_001 }, (_, index) => at(index / 100))).slice(1_000), {
      from: 1_000n,
    });
    expect(sink.commits.map((commit) => commit.nextOffset)).toEqual([256n, 512n, 768n, 1_001n]);
  });

  it('tells of each commit once it went through, its records already counted', async () => {
    const { sink, driver } = harness();
    const told: number[] = [];
    const metrics = { in: 0, late: 0, rows: 0, bad: 0 };
    const instance = driver({ maxRecords: 10, metrics, onCommitted: () => told.push(metrics.in) });
    const records = log(Array.from({ length: 24 }, (_, index) => at(index)));
    await instance.batch(0, records.slice(0, 18), { from: 0n, backlog: true });
    await instance.batch(0, records.slice(18), { from: 18n });
    expect(told).toEqual(sink.commits.map((commit) => Number(commit.nextOffset)));
    expect(told.at(-1)).toBe(24);
  });

  it('a failed commit drops the carried work too: the next fetch seeks back to the progress, and every record counts once', async () => {
    const { sink, driver } = harness();
    const instance = driver({ maxRecords: 100 });
    const records = log([at(1), at(2, 'Lee'), at(30), at(3), at(45), at(61), at(62)]);
    await instance.batch(0, records.slice(0, 3), { from: 0n, backlog: true });
    expect(sink.commits).toHaveLength(0);
    sink.failNext = 1;
    await expect(instance.batch(0, records.slice(3, 5), { from: 3n })).rejects.toThrow('injected');
    // The consumer fetches on from 5; the sink's progress is 0: seek there and redo it all.
    expect(await instance.batch(0, records.slice(5), { from: 5n })).toEqual({ kind: 'seek', offset: 0n });
    await instance.batch(0, records, { from: 0n });
    expect(sink.totals).toEqual(referenceModel([records.map((r) => classifyJson(r)).map(eventOf)], TUMBLING).rows);
    expect(sink.progress.get(0)?.nextOffset).toBe(7n);
  });

  it('--idle-close commits carried work first, at the offset it reached', async () => {
    const { sink, driver } = harness();
    const instance = driver({ maxRecords: 100 });
    const records = log([at(1), at(2), at(3)]);
    await instance.batch(0, records, { from: 0n, backlog: true });
    expect(sink.commits).toHaveLength(0);
    expect(await instance.idleClose(0)).toBe(1);
    expect(sink.progress.get(0)?.nextOffset).toBe(3n);
    expect(sink.totals).toEqual(new Map([['0|user|Kim', 3]]));
  });

  it('seeks back to the progress when a fetch starts beyond it (no progress row: offset 0), once', async () => {
    const { sink, driver } = harness();
    const instance = driver();
    const records = log([at(1), at(2), at(30), at(31)]);
    // The consumer group's committed offset says 2; the sink has nothing for the partition.
    expect(await instance.batch(0, records.slice(2), { from: 2n })).toEqual({ kind: 'seek', offset: 0n });
    expect(sink.commits).toHaveLength(0);
    await instance.batch(0, records, { from: 0n });
    expect(sink.totals).toEqual(new Map([['0|user|Kim', 2]]));
    // Right after a seek a fetch beyond it means the log starts later (retention): accepted, not a loop.
    const fresh = harness().driver();
    expect((await fresh.batch(0, records.slice(2), { from: 2n })).kind).toBe('seek');
    expect((await fresh.batch(0, records.slice(2), { from: 2n })).kind).toBe('done');
  });

  it('at assignment, asks for a seek only to a progress beyond offset 0: a partition without one is fetched from the log start anyway', async () => {
    const { sink, driver } = harness();
    const instance = driver();
    const records = log([at(1), at(2), at(30), at(31)]);
    // Nothing committed: the consumer (fromBeginning) starts where the progress is; a seek would
    // only make its first fetch stale and fetch again.
    expect(await instance.position(0)).toBeUndefined();
    // A group with offsets elsewhere is sought back by its first batch, and a log that starts later
    // (retention) is then accepted.
    expect(await instance.batch(0, records.slice(2), { from: 2n })).toEqual({ kind: 'seek', offset: 0n });
    await instance.batch(0, records, { from: 0n });
    expect(sink.progress.get(0)?.nextOffset).toBe(4n);
    instance.forget();
    expect(await instance.position(0)).toBe(4n);
    const fresh = harness().driver();
    expect(await fresh.position(0)).toBeUndefined();
    expect((await fresh.batch(0, records.slice(2), { from: 2n })).kind).toBe('seek');
    expect((await fresh.batch(0, records.slice(2), { from: 2n })).kind).toBe('done');
  });

  it('takes a fetch beyond the progress right after a seek for retention only when the log really starts beyond it', async () => {
    const { sink, driver } = harness();
    const records = log([at(1), at(2), at(3), at(30), at(31)]);
    await driver().batch(0, records.slice(0, 2), { from: 0n });
    expect(sink.progress.get(0)?.nextOffset).toBe(2n);
    // A restart: the driver seeks to the progress (2) at assignment, but a batch fetched from the
    // group's offsets (4) before that seek took effect still arrives. The log starts at 0: records
    // 2 and 3 are there to be read, so the driver seeks back again instead of skipping them.
    let logStart = 0n;
    const asked: number[] = [];
    const instance = driver({
      logStart: (partition) => {
        asked.push(partition);
        return Promise.resolve(logStart);
      },
    });
    expect(await instance.position(0)).toBe(2n);
    expect(await instance.batch(0, records.slice(4), { from: 4n })).toEqual({ kind: 'seek', offset: 2n });
    expect(asked).toEqual([0]);
    expect(sink.progress.get(0)?.nextOffset).toBe(2n);
    await instance.batch(0, records.slice(2), { from: 2n });
    expect(sink.progress.get(0)?.nextOffset).toBe(5n);
    // Record 2 (at 3 s) is counted: the window of 0–10 s closed with all three.
    expect(sink.totals.get('0|user|Kim')).toBe(3);
    // Retention: the log now starts at 7, beyond the progress (5): the gap is accepted.
    logStart = 7n;
    const later = log([at(40), at(41), at(42), at(43), at(44), at(45), at(46), at(47), at(48)]);
    expect(await instance.batch(0, later.slice(7), { from: 7n })).toMatchObject({ kind: 'seek', offset: 5n });
    expect((await instance.batch(0, later.slice(7), { from: 7n })).kind).toBe('done');
    expect(sink.progress.get(0)?.nextOffset).toBe(9n);
  });

  it('moves progress past a fetch of transaction markers only, but never past what was fetched', async () => {
    const { sink, driver } = harness();
    const instance = driver();
    await instance.batch(0, log([at(1), at(2)]), { from: 0n, end: 2n });
    expect(sink.progress.get(0)?.nextOffset).toBe(2n);
    await instance.skipped(0, 2n, 3n); // the commit marker at offset 2
    expect(sink.progress.get(0)?.nextOffset).toBe(3n);
    await instance.batch(0, [], {});
    expect(sink.progress.get(0)?.nextOffset).toBe(3n);
  });

  it('after a failed commit, reloads the partition from the sink: the re-delivered batch counts once', async () => {
    const { sink, driver } = harness();
    const instance = driver();
    const records = log([at(1), at(2, 'Lee'), at(30), at(3), at(45)]);
    sink.failNext = 1;
    await expect(instance.batch(0, records, { from: 0n })).rejects.toThrow('injected');
    await instance.batch(0, records, { from: 0n });
    expect(sink.totals).toEqual(referenceModel([records.map((r) => classifyJson(r)).map(eventOf)], TUMBLING).rows);
  });

  it('refuses a stale owner: after a rebalance the old owner’s commit (and its --idle-close) is not written', async () => {
    const { sink, driver } = harness();
    const stale = driver();
    const owner = driver();
    const records = log([at(1), at(2), at(3)]);
    await stale.batch(0, records.slice(0, 1), { from: 0n });
    // The partition moves: the new owner loads it, commits, and closes its windows while idle.
    await owner.batch(0, records.slice(1), { from: 1n });
    expect(await owner.idleClose(0)).toBe(1);
    // The zombie still holds the windows it loaded: its idle close (offset unchanged) must be refused.
    expect(await stale.idleClose(0)).toBe(0);
    await expect(stale.batch(0, records.slice(1), { from: 1n })).resolves.toEqual({ kind: 'done' });
    expect(sink.totals).toEqual(new Map([['0|user|Kim', 3]]));
  });

  it('publishes late events and dead letters before the commit that counts them: a failed send commits nothing', async () => {
    const { sink, sent, driver } = harness();
    let down = true;
    const instance = driver({ failSend: () => down });
    const records = log([at(40), at(1), 'not json', at(41)]);
    await expect(instance.batch(0, records, { from: 0n })).rejects.toThrow('broker down');
    expect(sink.commits).toHaveLength(0);
    down = false;
    await instance.batch(0, records, { from: 0n });
    expect(sent.map((batch) => [batch.topic, batch.messages.length])).toEqual([
      ['stages.late', 1],
      ['stages.dlq', 1],
    ]);
    const dead = sent[1]?.messages[0];
    expect(dead?.headers).toMatchObject({
      'kappa.dlq.reason': 'undecodable',
      'kappa.dlq.stage': 'aggregate',
      'kappa.source.offset': '2',
    });
    expect(sink.progress.get(0)).toMatchObject({ badRecords: 1, lateEvents: 1, nextOffset: 4n });
  });

  it('counts late events and late windows apart with hopping windows', async () => {
    const hopping: WindowSettings = { sizeMs: 10_000, slideMs: 5_000, delayMs: 0 };
    const { sink, driver } = harness(hopping);
    // At 12 s the watermark is 12 s: [0, 10) closed, [5, 15) open. An event at 7 s misses one of its two windows.
    await driver().batch(0, log([at(12), at(7), at(1)]), { from: 0n });
    expect(sink.progress.get(0)).toMatchObject({ lateEvents: 1, lateWindows: 3 });
  });

  it('commits an event that closes 16,000 rows in bounded chunks, with exact totals', async () => {
    // Window 10 s sliding by 1 s, watermark 2 min: two minutes of open windows, then a 4 min gap
    // closes them all — 17 chunks of at most 1,000 rows (500,000 rows in 20,000-row chunks took
    // 30 s here, beyond a unit test's budget; the chunking is the same).
    const settings: WindowSettings = { sizeMs: 10_000, slideMs: 1_000, delayMs: 120_000 };
    const { sink, driver } = harness(settings);
    const instance = driver({ maxRows: 1_000, maxRecords: 100_000 });
    const events: KeyedEvent[] = [];
    for (let second = 0; second < 120; second += 1)
      for (let n = 0; n < 14; n += 1) events.push({ time: second * 1_000 + n, keys: { user: `u${n}-${second % 10}` } });
    events.push(at(120 + 240 + 120));
    const records = log(events);
    await instance.batch(0, records, { from: 0n });
    const rows = sink.commits.reduce((sum, commit) => sum + commit.rows.length, 0);
    expect(rows).toBeGreaterThanOrEqual(16_000);
    expect(Math.max(...sink.commits.map((commit) => commit.rows.length))).toBeLessThanOrEqual(1_000);
    let total = 0;
    for (const count of sink.totals.values()) total += count;
    expect(total).toBe((events.length - 1) * 10);
    expect(sink.progress.get(0)?.nextOffset).toBe(BigInt(records.length));
  });
});

function eventOf(classified: Classified): KeyedEvent {
  if (classified.kind !== 'event') throw new Error('bad record');
  return classified.event;
}
