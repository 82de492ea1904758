import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolutionProblems } from './resolution.js';

const type = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema);
const problems = (writer: unknown, reader: unknown) => resolutionProblems(type(writer), type(reader));

const eventV1 = {
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'hello', type: 'string' },
    { name: 'time', type: 'string' },
  ],
};
const eventV2 = {
  ...eventV1,
  fields: [
    ...eventV1.fields,
    { name: 'event_ts', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
  ],
};

describe('resolutionProblems: examples', () => {
  it('compares unqualified names, as Avro SchemaCompatibility does: a namespace change alone is compatible', () => {
    const inner = (namespace: string) => ({
      type: 'record',
      name: 'Event',
      namespace,
      fields: [
        { name: 'id', type: 'long' },
        { name: 'where', type: { type: 'record', name: 'Place', fields: [{ name: 'city', type: 'string' }] } },
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A'] } },
      ],
    });
    expect(problems(inner('com.old'), inner('com.new'))).toEqual([]);
    expect(problems(inner('com.new'), inner('com.old'))).toEqual([]);
    expect(type(inner('com.new')).createResolver(type(inner('com.old')), { ignoreNamespaces: true })).toBeDefined();
    const renamed = { ...inner('com.new'), name: 'Other' };
    expect(problems(inner('com.old'), renamed)).toHaveLength(1);
    expect(problems(inner('com.old'), { ...renamed, aliases: ['com.old.Event'] })).toEqual([]);
  });

  it('reads old data with a new optional field (defaults fill it)', () => {
    expect(problems(eventV1, eventV2)).toEqual([]);
    expect(problems(eventV2, eventV1)).toEqual([]);
  });

  it('names a new field without a default', () => {
    const reader = { ...eventV1, fields: [...eventV1.fields, { name: 'region', type: 'string' }] };
    expect(problems(eventV1, reader)).toEqual([
      { path: 'Event.region', reason: 'the reader field has no default and the writer does not have it' },
    ]);
  });

  it('names a field whose type changed', () => {
    const reader = { ...eventV1, fields: [{ name: 'id', type: 'string' }, ...eventV1.fields.slice(1)] };
    expect(problems(eventV1, reader)).toEqual([{ path: 'Event.id', reason: 'cannot read long as string' }]);
  });

  it('applies the promotions of the spec and no others', () => {
    expect(problems('int', 'long')).toEqual([]);
    expect(problems('long', 'double')).toEqual([]);
    expect(problems('string', 'bytes')).toEqual([]);
    expect(problems('long', 'int')).toHaveLength(1);
    expect(problems('double', 'float')).toHaveLength(1);
  });

  it('follows field aliases and record aliases', () => {
    const renamed = {
      type: 'record',
      name: 'Event2',
      aliases: ['Event'],
      fields: [{ name: 'ident', aliases: ['id'], type: 'long' }],
    };
    expect(problems(eventV1, renamed)).toEqual([]);
    expect(problems(eventV1, { ...renamed, aliases: [] })).toEqual([
      { path: 'Event2', reason: "record Event2 has no alias for the writer's Event" },
    ]);
  });

  it('checks every writer union branch and finds a reader union branch', () => {
    expect(problems(['null', 'int'], ['null', 'long'])).toEqual([]);
    expect(problems(['null', 'string'], 'string')).toEqual([{ path: 'string', reason: 'cannot read null as string' }]);
    expect(problems('int', ['null', 'string'])).toHaveLength(1);
  });

  it('needs every writer enum symbol unless the reader has a default', () => {
    const writer = { type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] };
    expect(problems(writer, { ...writer, symbols: ['A', 'B'] })).toEqual([
      { path: 'E', reason: "the reader enum lacks the writer's symbols C and has no default" },
    ]);
    expect(problems(writer, { ...writer, symbols: ['A', 'B'], default: 'A' })).toEqual([]);
  });

  it('terminates on recursive schemas', () => {
    const list = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'int' },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    };
    const wider = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'long' },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    };
    expect(problems(list, wider)).toEqual([]);
    expect(problems(wider, list).length).toBeGreaterThan(0);
  });
});

/** Random Avro schemas over a small vocabulary, so writer and reader often (not always) agree. */
const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;
const DEFAULTS: Record<string, unknown> = {
  null: null,
  boolean: true,
  int: 1,
  long: 2,
  float: 1.5,
  double: 2.5,
  bytes: '\u0000',
  string: 's',
};

type Shape =
  | { kind: 'primitive'; name: (typeof PRIMITIVES)[number] }
  | { kind: 'enum'; symbols: string[]; withDefault: boolean }
  | { kind: 'fixed'; size: number }
  | { kind: 'array'; items: Shape }
  | { kind: 'map'; values: Shape }
  | { kind: 'nullable'; inner: Shape }
  | { kind: 'record'; name: string; fields: { name: string; type: Shape; withDefault: boolean }[] };

const { shape } = fc.letrec<{ shape: Shape; nonNull: Shape }>((tie) => ({
  shape: fc.oneof(
    { depthSize: 'small' },
    tie('nonNull'),
    tie('nonNull').map((inner) => ({ kind: 'nullable' as const, inner })),
  ),
  nonNull: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .constantFrom(...PRIMITIVES.filter((name) => name !== 'null'))
      .map((name) => ({ kind: 'primitive' as const, name })),
    fc.record({
      kind: fc.constant('enum' as const),
      symbols: fc.subarray(['X', 'Y', 'Z'], { minLength: 1 }),
      withDefault: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('fixed' as const), size: fc.constantFrom(1, 2) }),
    fc.record({ kind: fc.constant('array' as const), items: tie('shape') }),
    fc.record({ kind: fc.constant('map' as const), values: tie('shape') }),
    fc.record({
      kind: fc.constant('record' as const),
      name: fc.constantFrom('R', 'S'),
      fields: fc.uniqueArray(
        fc.record({ name: fc.constantFrom('a', 'b', 'c'), type: tie('shape'), withDefault: fc.boolean() }),
        { selector: (field) => field.name, maxLength: 3 },
      ),
    }),
  ),
}));

/** A small random edit of a shape: the reader side of a schema evolution, often still compatible. */
function mutate(node: Shape): fc.Arbitrary<Shape> {
  const wrap = fc.constant<Shape>({ kind: 'nullable', inner: node });
  switch (node.kind) {
    case 'primitive':
      return fc.oneof(
        fc
          .constantFrom(...PRIMITIVES.filter((name) => name !== 'null'))
          .map((name): Shape => ({ kind: 'primitive', name })),
        wrap,
      );
    case 'enum':
      return fc.oneof(
        fc.record({
          kind: fc.constant('enum' as const),
          symbols: fc.subarray(['X', 'Y', 'Z'], { minLength: 1 }),
          withDefault: fc.boolean(),
        }),
        wrap,
      );
    case 'fixed':
      return fc.oneof(
        fc.constantFrom(1, 2).map((size): Shape => ({ kind: 'fixed', size })),
        wrap,
      );
    case 'array':
      return fc.oneof(
        mutate(node.items).map((items): Shape => ({ kind: 'array', items })),
        wrap,
      );
    case 'map':
      return fc.oneof(
        mutate(node.values).map((values): Shape => ({ kind: 'map', values })),
        wrap,
      );
    case 'nullable':
      // A union may not hold a union: an edit that made the inner type nullable stands for the whole.
      return fc.oneof(
        fc.constant(node.inner),
        mutate(node.inner).map((inner): Shape => (inner.kind === 'nullable' ? inner : { kind: 'nullable', inner })),
      );
    case 'record': {
      const edits: fc.Arbitrary<Shape>[] = [wrap];
      if (node.fields.length > 0) {
        edits.push(
          fc
            .nat(node.fields.length - 1)
            .map((drop): Shape => ({ ...node, fields: node.fields.filter((_, index) => index !== drop) })),
        );
        edits.push(
          fc.nat(node.fields.length - 1).chain((at) =>
            fc.tuple(mutate(node.fields[at]?.type ?? node), fc.boolean()).map(([type, withDefault]): Shape => ({
              ...node,
              fields: node.fields.map((field, index) => (index === at ? { ...field, type, withDefault } : field)),
            })),
          ),
        );
      }
      const free = ['a', 'b', 'c'].filter((name) => !node.fields.some((field) => field.name === name));
      if (free.length > 0) {
        edits.push(
          fc.tuple(fc.constantFrom(...free), shape, fc.boolean()).map(([name, type, withDefault]): Shape => ({
            ...node,
            fields: [...node.fields, { name, type, withDefault }],
          })),
        );
      }
      return fc.oneof(...edits);
    }
  }
}

/** Renders a shape; named types are named after their position so both sides name them alike. */
function render(node: Shape, path: string): { schema: unknown; default?: unknown } {
  switch (node.kind) {
    case 'primitive':
      return { schema: node.name, default: DEFAULTS[node.name] };
    case 'enum':
      return {
        schema: {
          type: 'enum',
          name: `E${path}`,
          symbols: node.symbols,
          ...(node.withDefault ? { default: node.symbols[0] } : {}),
        },
        default: node.symbols[0],
      };
    case 'fixed':
      return { schema: { type: 'fixed', name: `F${path}`, size: node.size } };
    case 'array':
      return { schema: { type: 'array', items: render(node.items, `${path}_i`).schema }, default: [] };
    case 'map':
      return { schema: { type: 'map', values: render(node.values, `${path}_v`).schema }, default: {} };
    case 'nullable':
      return { schema: ['null', render(node.inner, path).schema], default: null };
    case 'record':
      return {
        schema: {
          type: 'record',
          name: `${node.name}${path}`,
          fields: node.fields.map((field) => {
            const inner = render(field.type, `${path}_${field.name}`);
            return {
              name: field.name,
              type: inner.schema,
              ...(field.withDefault && inner.default !== undefined ? { default: inner.default } : {}),
            };
          }),
        },
      };
  }
}

function avscCanRead(writer: avro.Type, reader: avro.Type): boolean {
  try {
    reader.createResolver(writer, { ignoreNamespaces: true });
    return true;
  } catch {
    return false;
  }
}

describe('resolutionProblems agrees with avsc createResolver', () => {
  it('on random writer/reader pairs', () => {
    fc.assert(
      fc.property(shape, shape, (writerShape, readerShape) => {
        const writer = type(render(writerShape, '').schema);
        const reader = type(render(readerShape, '').schema);
        expect(resolutionProblems(writer, reader).length === 0).toBe(avscCanRead(writer, reader));
      }),
      // ~8 ms a pair: within a unit test's budget (a new seed each run, so runs add up over time).
      { numRuns: 150 },
    );
  });

  it('on random schema evolutions (a writer and a small edit of it, both ways)', () => {
    fc.assert(
      fc.property(
        shape.chain((original) => fc.tuple(fc.constant(original), mutate(original))),
        ([original, edited]) => {
          const before = type(render(original, '').schema);
          const after = type(render(edited, '').schema);
          expect(resolutionProblems(before, after).length === 0).toBe(avscCanRead(before, after));
          expect(resolutionProblems(after, before).length === 0).toBe(avscCanRead(after, before));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on random schemas read by themselves (always compatible)', () => {
    fc.assert(
      fc.property(shape, (node) => {
        const schema = type(render(node, '').schema);
        expect(resolutionProblems(schema, schema)).toEqual([]);
      }),
    );
  });
});
