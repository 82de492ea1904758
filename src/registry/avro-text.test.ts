import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalSchema } from './avro-schema.js';
import { avroSchemaText, type Json } from './avro-text.js';

let names = 0;

describe('avroSchemaText (Avro Schema.toString)', () => {
  it("writes Avro's key order, a namespace only where it changes, named types by name once defined", () => {
    const schema: Json = {
      fields: [
        { default: 0, type: { logicalType: 'timestamp-millis', type: 'long' }, name: 'ts', doc: 'when' },
        {
          name: 'place',
          type: { fields: [{ name: 'city', type: { type: 'string' } }], name: 'Place', type: 'record' },
        },
        { name: 'again', type: 'Place' },
        { name: 'kind', type: { symbols: ['A'], name: 'other.Kind', type: 'enum', aliases: ['Old'] } },
        { name: 'tags', type: { values: 'string', type: 'map' }, order: 'descending' },
      ],
      namespace: 'dev.kappa',
      name: 'Event',
      type: 'record',
    };
    expect(avroSchemaText(schema)).toBe(
      '{"type":"record","name":"Event","namespace":"dev.kappa","fields":[' +
        '{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"when","default":0},' +
        '{"name":"place","type":{"type":"record","name":"Place","fields":[{"name":"city","type":"string"}]}},' +
        '{"name":"again","type":"Place"},' +
        '{"name":"kind","type":{"type":"enum","name":"Kind","namespace":"other","symbols":["A"],"aliases":["Old"]}},' +
        '{"name":"tags","type":{"type":"map","values":"string"},"order":"descending"}]}',
    );
  });

  it('writes a qualified name and a name with a namespace alike', () => {
    const qualified = { type: 'record', name: 'com.x.N', fields: [{ name: 'a', type: 'int' }] };
    const spaced = { type: 'record', name: 'N', namespace: 'com.x', fields: [{ name: 'a', type: { type: 'int' } }] };
    expect(canonicalSchema(JSON.stringify(qualified))).toBe(canonicalSchema(JSON.stringify(spaced)));
    expect(canonicalSchema(JSON.stringify(qualified))).toBe(
      '{"type":"record","name":"N","namespace":"com.x","fields":[{"name":"a","type":"int"}]}',
    );
  });

  it('is idempotent and keeps the schema (same Parsing Canonical Form) on random records', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'd');
    const space = fc.option(fc.constantFrom('x', 'x.y', 'z'), { nil: undefined });
    const leaf = fc.constantFrom<Json>('int', 'string', { type: 'long', logicalType: 'timestamp-millis' }, [
      'null',
      'string',
    ]);
    const record = fc.letrec<{ record: Json }>((tie) => ({
      record: fc
        .tuple(
          name,
          space,
          fc.uniqueArray(fc.tuple(name, fc.oneof({ depthSize: 'small' }, leaf, tie('record'))), {
            selector: ([field]) => field,
            maxLength: 3,
          }),
        )
        .map(([recordName, namespace, fields]): Json => ({
          type: 'record',
          name: `R${recordName}${(names += 1)}`,
          ...(namespace === undefined ? {} : { namespace }),
          fields: fields.map(([field, type]) => ({ name: field, type })),
        })),
    }));
    fc.assert(
      fc.property(record.record, (schema) => {
        const text = canonicalSchema(JSON.stringify(schema));
        expect(canonicalSchema(text)).toBe(text);
        const before = avro.Type.forSchema(schema as avro.Schema);
        const after = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
        expect(after.equals(before)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
