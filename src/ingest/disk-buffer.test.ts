import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText, DiskBuffer, undelivered, type BufferedRecord } from './disk-buffer.js';

const record = (id: number, partitions = 3): BufferedRecord => ({
  id,
  partition: id % partitions,
  value: Buffer.from(`v${id}`),
});

describe('DiskBuffer', () => {
  it('fsyncs the folder after renaming a chunk into place (else a power loss may forget the name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kappa-buffer-sync-'));
    const synced: string[][] = [];
    const buffer = await DiskBuffer.open(dir, (folder) => {
      expect(folder).toBe(dir);
      synced.push(readdirSync(folder));
      return Promise.resolve();
    });
    await buffer.append({ firstId: 7, records: [] });
    expect(synced).toEqual([['chunk-0000000000000007.json']]);
  });

  it('keeps chunks on disk, in id order, until removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kappa-buffer-'));
    const buffer = await DiskBuffer.open(dir);
    const later = { firstId: 2_000, records: [record(2_000)] };
    const earlier = { firstId: 10, records: [record(10), record(11)] };
    await buffer.append(later);
    await buffer.append(earlier);
    const reopened = await DiskBuffer.open(dir);
    expect(await reopened.chunks()).toEqual([earlier, later]);
    await reopened.remove(earlier);
    expect(await reopened.chunks()).toEqual([later]);
  });

  it('writes JSON with base64 values, the text JSON.stringify gives, and reads what earlier versions left', async () => {
    const anyRecord = fc.record({
      id: fc.nat(),
      partition: fc.nat({ max: 100 }),
      value: fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
    });
    fc.assert(
      fc.property(fc.nat(), fc.array(anyRecord, { maxLength: 20 }), (firstId, records) => {
        const stored = {
          firstId,
          records: records.map((entry) => ({ ...entry, value: entry.value.toString('base64') })),
        };
        expect(chunkText({ firstId, records })).toBe(JSON.stringify(stored));
      }),
    );
    // A chunk as the generator wrote it before values were kept as bytes in memory (JSON.stringify).
    const dir = mkdtempSync(join(tmpdir(), 'kappa-buffer-'));
    const old = {
      firstId: 42,
      records: [{ id: 42, partition: 0, value: Buffer.from([0, 0, 0, 0, 1, 2]).toString('base64') }],
    };
    writeFileSync(join(dir, 'chunk-0000000000000042.json'), JSON.stringify(old));
    expect(await (await DiskBuffer.open(dir)).chunks()).toEqual([
      { firstId: 42, records: [{ id: 42, partition: 0, value: Buffer.from([0, 0, 0, 0, 1, 2]) }] },
    ]);
  });

  it('drops a chunk whose write was interrupted (never acknowledged)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kappa-buffer-'));
    writeFileSync(join(dir, 'chunk-0000000000000005.json.tmp'), '{"firstId":5,"rec');
    const buffer = await DiskBuffer.open(dir);
    expect(await buffer.chunks()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('refuses a corrupt chunk loudly rather than dropping its records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kappa-buffer-'));
    writeFileSync(join(dir, 'chunk-0000000000000005.json'), '{"firstId":5}');
    await expect((await DiskBuffer.open(dir)).chunks()).rejects.toThrow(/corrupt buffer chunk/);
    await expect((await DiskBuffer.open(dir)).chunks()).rejects.toMatchObject({ code: 'KAPPA_INGEST_BUFFER_CORRUPT' });
    writeFileSync(join(dir, 'chunk-0000000000000005.json'), '{"firstId":5,"rec');
    await expect((await DiskBuffer.open(dir)).chunks()).rejects.toMatchObject({ code: 'KAPPA_INGEST_BUFFER_CORRUPT' });
  });
});

describe('undelivered', () => {
  it('keeps exactly the records past their partition’s last id in the log', () => {
    const records = [0, 1, 2, 3, 4, 5, 6, 7].map((id) => record(id));
    expect(
      undelivered(
        records,
        new Map([
          [0, 3],
          [1, 1],
          [2, -1],
        ]),
      ).map((entry) => entry.id),
    ).toEqual([2, 4, 5, 6, 7]);
    expect(undelivered(records, new Map()).map((entry) => entry.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('after any partial delivery, resending the undelivered part completes the log exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        (size, partitions, cuts) => {
          const records = Array.from({ length: size }, (_, id) => record(id, partitions));
          // Each partition received a prefix of its records (the producer keeps order per partition).
          const log = new Map<number, number[]>();
          for (let partition = 0; partition < partitions; partition += 1) {
            const mine = records.filter((entry) => entry.partition === partition).map((entry) => entry.id);
            log.set(partition, mine.slice(0, (cuts[partition] ?? 0) % (mine.length + 1)));
          }
          const lastIds = new Map(
            [...log].filter(([, ids]) => ids.length > 0).map(([partition, ids]) => [partition, ids.at(-1) ?? -1]),
          );
          for (const entry of undelivered(records, lastIds)) log.get(entry.partition)?.push(entry.id);
          expect([...log.values()].flat().sort((a, b) => a - b)).toEqual(records.map((entry) => entry.id));
        },
      ),
    );
  });
});
