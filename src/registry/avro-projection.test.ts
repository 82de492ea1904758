import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectRecord } from './avro-projection.js';
import { parseAvro, type AvroType } from './avro-schema.js';
import type { Json } from './avro-text.js';

const STAGES = JSON.parse(
  readFileSync(new URL('../../schemas/events_stages/v1.avsc', import.meta.url), 'utf8'),
) as Json;

/** A record with every kind of field a projection keeps or drops. */
const MIXED: Json = {
  type: 'record',
  name: 'Mixed',
  fields: [
    { name: 'time', type: 'string' },
    { name: 'count', type: 'long' },
    { name: 'flag', type: 'boolean' },
    { name: 'ratio', type: 'double' },
    { name: 'blob', type: 'bytes' },
    { name: 'colour', type: { type: 'enum', name: 'Colour', symbols: ['RED', 'GREEN'] } },
    { name: 'maybe', type: ['null', 'string'] },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'again', type: 'Colour' },
    { name: 'note', type: 'string' },
  ],
};

type Outcome = { ok: true; offset: number; value: Record<string, unknown> } | { ok: false };

function read(type: AvroType, resolver: ReturnType<AvroType['createResolver']>, bytes: Buffer): Outcome {
  try {
    const decoded = type.decode(bytes, 0, resolver);
    const value: unknown = decoded.value;
    const { offset } = decoded;
    return offset < 0 || value === undefined
      ? { ok: false }
      : { ok: true, offset, value: value as Record<string, unknown> };
  } catch {
    return { ok: false };
  }
}

/** Payloads of `schema`: valid records, then cut, spoiled or extended. */
function payloads(type: AvroType) {
  return fc
    .tuple(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.oneof(
        fc.constant({ kind: 'as written' as const }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('spoiled' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant('extended' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      ),
    )
    .map(([seed, change]) => {
      let state = seed;
      const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      const original = Math.random;
      Math.random = random; // avsc's Type#random draws from Math.random
      const bytes = Buffer.from(type.toBuffer(type.random()));
      Math.random = original;
      if (change.kind === 'cut') return bytes.subarray(0, change.at % (bytes.length + 1));
      if (change.kind === 'spoiled') {
        if (bytes.length > 0) bytes[change.at % bytes.length] = change.byte;
        return bytes;
      }
      if (change.kind === 'extended') return Buffer.concat([bytes, change.bytes]);
      return bytes;
    });
}

describe('projectRecord', () => {
  it('drops only the primitive fields not read, keeping the rest in order', () => {
    const projected = projectRecord(MIXED, new Set(['time', 'ratio'])) as { fields: { name: string }[] };
    expect(projected.fields.map((field) => field.name)).toEqual(['time', 'ratio', 'colour', 'maybe', 'tags', 'again']);
    expect(projectRecord('string', new Set())).toBe('string');
  });

  for (const [name, schema, fields] of [
    ['events_stages, the aggregator’s fields', STAGES, ['time', 'user_name', 'dept_name', 'age']],
    ['events_stages, time only', STAGES, ['time']],
    ['a record of every kind of field', MIXED, ['time', 'flag']],
  ] as const)
    it(`accepts and refuses what the whole schema does, with the same values read (${name})`, () => {
      const whole = parseAvro(JSON.stringify(schema));
      const part = parseAvro(JSON.stringify(projectRecord(schema, new Set(fields))));
      const wholeResolver = whole.createResolver(whole);
      const partResolver = part.createResolver(whole);
      fc.assert(
        fc.property(payloads(whole), (bytes) => {
          const full = read(whole, wholeResolver, bytes);
          const projected = read(part, partResolver, bytes);
          expect(projected.ok).toBe(full.ok);
          if (!full.ok || !projected.ok) return;
          expect(projected.offset).toBe(full.offset);
          for (const field of Object.keys(projected.value)) expect(projected.value[field]).toEqual(full.value[field]);
          for (const field of fields) expect(projected.value).toHaveProperty(field);
        }),
        { numRuns: 2_000 },
      );
    });
});
