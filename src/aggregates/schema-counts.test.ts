import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchemaCounts, SchemaCounter, schemaCountsJson, type SchemaCounts } from './schema-counts.js';

const framed = (id: number) => {
  const value = Buffer.alloc(8);
  value.writeInt32BE(id, 1);
  return value;
};

describe('schema counts', () => {
  it('counts records by writer schema id, and those not in the wire format under null', () => {
    const counter = new SchemaCounter(new Map());
    for (const value of [framed(3), framed(3), framed(-1), null, Buffer.from('{"json":1}'), Buffer.alloc(4)])
      counter.count(value);
    expect(counter.settled()).toEqual(
      new Map<number | null, number>([
        [3, 2],
        [-1, 1],
        [null, 3],
      ]),
    );
  });

  it('counts a run of one id at a time, exactly as record by record, whenever the counts are read', () => {
    const value = fc.option(fc.constantFrom(-1, 0, 3, 7).map(framed), { nil: null });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.boolean()), { maxLength: 60 }),
        fc.constantFrom<[number | null, number][]>(
          [],
          [[3, 5]],
          [
            [null, 2],
            [7, 1],
          ],
        ),
        (records, before) => {
          const counter = new SchemaCounter(new Map(before));
          const expected: SchemaCounts = new Map(before);
          for (const [record, read] of records) {
            counter.count(record);
            const key = record === null ? null : record.readInt32BE(1);
            expected.set(key, (expected.get(key) ?? 0) + 1);
            if (read) expect(counter.settled()).toEqual(expected);
          }
          expect(counter.settled()).toEqual(expected);
        },
      ),
    );
  });

  it('reads back exactly what it stores, any ids and counts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.option(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }), { nil: null }), {
          maxLength: 8,
        }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        (ids, records) => {
          const counts: SchemaCounts = new Map(ids.map((id, index) => [id, records[index] ?? 0]));
          expect(parseSchemaCounts(schemaCountsJson(counts))).toEqual(counts);
        },
      ),
    );
  });

  it('trusts nothing else', () => {
    for (const text of ['', 'null', '[]', '{"x":1}', '{"1":-1}', '{"1":1.5}', '{"1":"2"}', '{"99999999999":1}', '{'])
      expect(parseSchemaCounts(text), text).toBeUndefined();
  });
});
