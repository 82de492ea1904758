import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMongoDigests } from '../src/aggregates/mongo-digest-store.js';
import { MongoSink } from '../src/aggregates/mongo-sink.js';
import type { CommitRequest } from '../src/aggregates/sink.js';
import { versionSettings } from '../src/model/version-settings.js';
import { digestIncrements } from '../src/aggregates/window-digest.js';
import type { WindowRow } from '../src/aggregates/window-engine.js';
import { MongoVersions } from '../src/recovery/mongo-versions.js';
import { verifyVersions } from '../src/recovery/verify.js';
import { useTestContext } from './support/context.js';

const context = useTestContext('mongo-sink');
const SETTINGS = { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 };
const VERSION = versionSettings({
  window: 10_000,
  slide: 10_000,
  watermarkDelay: 15_000,
  dims: ['user'],
  timeZone: 'Asia/Seoul',
  topicStages: 'stages',
  sink: 'mongodb',
});
const SNAPSHOT = { maxEventTime: null, lateEvents: 0, open: [] };

function row(windowStart: number, key: string, count: number, dim = 'user'): WindowRow {
  return { windowStart, windowEnd: windowStart + SETTINGS.sizeMs, dim, key, count };
}

function request(
  partition: number,
  expected: bigint | null,
  nextOffset: bigint,
  rows: readonly WindowRow[],
): CommitRequest {
  return {
    partition,
    // No progress is offset 0; the MongoDB sink guards with its own commit numbers.
    expected: { nextOffset: expected ?? 0n, seq: 0 },
    nextOffset,
    rows,
    snapshot: { ...SNAPSHOT, lateEvents: Number(nextOffset) },
    lateEvents: Number(nextOffset),
    lateWindows: 0,
    badRecords: 0,
    watermark: null,
  };
}

describe('MongoSink against the MongoDB stand-in (mongo-java-server)', () => {
  const client = new MongoClient(context.mongodbUrl);
  beforeAll(() => client.connect());
  afterAll(() => client.close());

  async function counts(version: string): Promise<Record<string, number>> {
    const docs = await client.db().collection(`events_users_${version}`).find().toArray();
    return Object.fromEntries(
      docs.map((doc) => [
        `${(doc['window_start'] as Date).getTime()}|${String(doc['user_name'])}`,
        Number(doc['count']),
      ]),
    );
  }

  async function open(version: string, partitions: readonly number[] = [0, 1]): Promise<MongoSink> {
    const sink = await MongoSink.open(context.mongodbUrl, version, 'stages');
    await sink.prepare({ version, settings: VERSION });
    for (const partition of partitions) await sink.load(partition);
    return sink;
  }

  it('writes the rows of collections named like the MySQL tables, totals over partitions, and resumes from its progress', async () => {
    const sink = await open('v1');
    expect(await sink.commit(request(0, null, 10n, [row(0, 'Kim', 3), row(0, 'Lee', 1)]))).toBe(true);
    expect(await sink.commit(request(1, null, 7n, [row(0, 'Kim', 2)]))).toBe(true);
    expect(await sink.commit(request(0, 10n, 20n, [row(10_000, 'Kim', 4)]))).toBe(true);
    expect(await counts('v1')).toEqual({ '0|Kim': 5, '0|Lee': 1, '10000|Kim': 4 });
    const doc = await client.db().collection('events_users_v1').findOne({ user_name: 'Lee' });
    expect(doc).toMatchObject({
      window_start: new Date(0),
      window_end: new Date(10_000),
      user_name: 'Lee',
      count: 1,
      idle_closed: false,
    });
    await sink.close();

    const again = await MongoSink.open(context.mongodbUrl, 'v1', 'stages');
    expect(await again.load(0)).toEqual({
      nextOffset: 20n,
      seq: 2,
      badRecords: 0,
      snapshot: { ...SNAPSHOT, lateEvents: 20 },
    });
    expect(await again.load(1)).toMatchObject({ nextOffset: 7n });
    // No progress: offset 0 (SPEC §1.3).
    expect(await again.load(2)).toEqual({ nextOffset: 0n, seq: 0, badRecords: 0 });
    await again.close();
  });

  it('a crash after the progress was written but before the rows were: the next load applies them, once', async () => {
    const sink = await open('v2');
    expect(await sink.commit(request(0, null, 5n, [row(0, 'Kim', 1)]))).toBe(true);
    // Step 1 only, then "crash".
    expect(await sink.stage(request(0, 5n, 9n, [row(0, 'Kim', 2), row(0, 'Lee', 7)]))).toBeDefined();
    expect(await counts('v2')).toEqual({ '0|Kim': 1 });
    await sink.close();

    const restarted = await MongoSink.open(context.mongodbUrl, 'v2', 'stages');
    expect(await restarted.load(0)).toMatchObject({ nextOffset: 9n });
    expect(await counts('v2')).toEqual({ '0|Kim': 3, '0|Lee': 7 });
    // Loading again (another restart) adds nothing.
    await restarted.load(0);
    expect(await counts('v2')).toEqual({ '0|Kim': 3, '0|Lee': 7 });
    await restarted.close();
  });

  it('a crash halfway through applying the rows: finishing them does not count the applied ones twice', async () => {
    const sink = await open('v3');
    const pending = await sink.stage(request(0, null, 4n, [row(0, 'Kim', 2), row(0, 'Lee', 3), row(10_000, 'Kim', 5)]));
    expect(pending).toBeDefined();
    if (pending === undefined) return;
    // Only the first row reached MongoDB before the crash.
    await sink.apply(0, { ...pending, rows: pending.rows.slice(0, 1) });
    await sink.close();
    const restarted = await open('v3', []);
    await restarted.load(0);
    expect(await counts('v3')).toEqual({ '0|Kim': 2, '0|Lee': 3, '10000|Kim': 5 });
    await restarted.close();
  });

  it('refuses a commit when another instance moved the partition (nothing written), and a zombie applying late adds nothing', async () => {
    const zombie = await open('v4');
    expect(await zombie.commit(request(0, null, 3n, [row(0, 'Kim', 1)]))).toBe(true);
    const successor = await open('v4');
    expect(await successor.commit(request(0, 3n, 6n, [row(0, 'Kim', 2)]))).toBe(true);
    // The old owner still thinks it is at 3: refused, nothing written.
    expect(await zombie.commit(request(0, 3n, 8n, [row(0, 'Kim', 100)]))).toBe(false);
    expect(await counts('v4')).toEqual({ '0|Kim': 3 });
    // A zombie re-applying a commit that already landed adds nothing.
    await zombie.apply(0, { seq: 1, rows: [[0, 10_000, 'user', 'Kim', 1]], idleClosed: false });
    expect(await counts('v4')).toEqual({ '0|Kim': 3 });
    await Promise.all([zombie.close(), successor.close()]);
  });

  it('partitions writing the same window and key at the same time: every contribution counts', async () => {
    const sink = await open('v5', [0, 1, 2, 3, 4, 5]);
    const keys = Array.from({ length: 50 }, (_, index) => `user-${index}`);
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((partition) =>
        sink.commit(
          request(
            partition,
            null,
            1n,
            keys.map((key) => row(0, key, partition + 1)),
          ),
        ),
      ),
    );
    expect(await counts('v5')).toEqual(Object.fromEntries(keys.map((key) => [`0|${key}`, 21])));
    await sink.close();
  });

  it('writes window digests exactly once with the rows, so kappa verify compares MongoDB versions (issue 26)', async () => {
    const closedAll = (partition: number, expected: bigint | null, next: bigint, rows: readonly WindowRow[]) => ({
      ...request(partition, expected, next, rows),
      watermark: 100_000,
    });
    // v11 and v12: the same final rows, committed in other splits; v12 crashes halfway through applying one.
    const v11 = await open('v11');
    expect(await v11.commit(closedAll(0, null, 2n, [row(0, 'Kim', 3), row(0, 'Lee', 1)]))).toBe(true);
    expect(await v11.commit(closedAll(1, null, 1n, [row(0, 'Kim', 2)]))).toBe(true);
    expect(await v11.commit(closedAll(0, 2n, 3n, [row(10_000, 'Kim', 4)]))).toBe(true);
    await v11.close();
    const v12 = await open('v12');
    expect(await v12.commit(closedAll(1, null, 1n, [row(0, 'Kim', 2)]))).toBe(true);
    expect(await v12.commit(closedAll(0, null, 1n, [row(0, 'Kim', 1)]))).toBe(true);
    const pending = await v12.stage(closedAll(0, 1n, 3n, [row(0, 'Kim', 2), row(0, 'Lee', 1), row(10_000, 'Kim', 4)]));
    expect(pending).toBeDefined();
    if (pending === undefined) return;
    await v12.apply(0, pending);
    await v12.close();
    // Restarted: the load finishes the pending commit again; the guard adds nothing twice.
    const restarted = await open('v12', [0]);
    await restarted.close();
    const v13 = await open('v13');
    expect(await v13.commit(closedAll(0, null, 3n, [row(0, 'Kim', 3), row(0, 'Lee', 2), row(10_000, 'Kim', 4)]))).toBe(
      true,
    );
    expect(await v13.commit(closedAll(1, null, 1n, [row(0, 'Kim', 2)]))).toBe(true);
    await v13.close();

    const final = [row(0, 'Kim', 5), row(0, 'Lee', 1), row(10_000, 'Kim', 4)];
    const formula = new Map(
      digestIncrements(final, ['user']).map((entry) => [
        entry.windowStart,
        { digest: entry.digest, total: entry.total },
      ]),
    );
    expect(await readMongoDigests(client.db(), 'v11', 'user')).toEqual(formula);
    expect(await readMongoDigests(client.db(), 'v12', 'user')).toEqual(formula);

    const versions = await MongoVersions.open(context.mongodbUrl);
    try {
      expect(await verifyVersions(versions, 'v11', 'v12')).toMatchObject({ identical: true, windows: 2 });
      const changed = await verifyVersions(versions, 'v11', 'v13');
      expect(changed.identical).toBe(false);
      expect(changed.tables.user?.differing.map((entry) => entry.windowStart)).toEqual([0]);
    } finally {
      await versions.close();
    }
  });

  it('marks idle-closed rows, and refuses a version whose settings changed', async () => {
    const sink = await open('v6');
    expect(await sink.commit({ ...request(0, null, 2n, [row(0, 'Kim', 1)]), idleClosed: true })).toBe(true);
    expect(await sink.commit(request(1, null, 2n, [row(0, 'Kim', 1)]))).toBe(true);
    expect(await client.db().collection('events_users_v6').findOne({ user_name: 'Kim' })).toMatchObject({
      count: 2,
      idle_closed: true,
    });
    await sink.close();
    const changed = await MongoSink.open(context.mongodbUrl, 'v6', 'stages');
    await expect(
      changed.prepare({ version: 'v6', settings: { ...VERSION, window: { ...SETTINGS, delayMs: 60_000 } } }),
    ).rejects.toMatchObject({ code: 'KAPPA_VERSION_SETTINGS_MISMATCH' });
    await changed.close();
  });
});
