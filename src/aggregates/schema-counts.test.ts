import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSchema, parseSchemaCounts, schemaCountsJson, type SchemaCounts } from './schema-counts.js';

const framed = (id: number) => {
  const value = Buffer.alloc(8);
  value.writeInt32BE(id, 1);
  return value;
};

describe('schema counts', () => {
  it('counts records by writer schema id, and those not in the wire format under null', () => {
    const counts: SchemaCounts = new Map();
    for (const value of [framed(3), framed(3), framed(-1), null, Buffer.from('{"json":1}'), Buffer.alloc(4)])
      countSchema(counts, value);
    expect(counts).toEqual(
      new Map<number | null, number>([
        [3, 2],
        [-1, 1],
        [null, 3],
      ]),
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
