import type { AvroType } from './avro-schema.js';

/** Why data written with one schema cannot be read with another, and where. */
export interface ResolutionProblem {
  /** Dotted path in the reader schema, e.g. `Event.event_ts` or `Event.tags[]`. */
  readonly path: string;
  readonly reason: string;
}

/** The parts of avsc's Type classes the walk reads (avsc's typings declare them only per class). */
interface Walkable {
  readonly typeName: string;
  readonly name?: string;
  readonly aliases?: readonly string[];
  readonly fields?: readonly {
    readonly name: string;
    readonly aliases: readonly string[];
    readonly type: AvroType;
    defaultValue(): unknown;
  }[];
  readonly symbols?: readonly string[];
  readonly default?: unknown;
  readonly size?: number;
  readonly itemsType?: AvroType;
  readonly valuesType?: AvroType;
  readonly types?: readonly AvroType[];
}

const walkable = (type: AvroType): Walkable => type;

/** Writer primitives each reader primitive accepts (Avro spec, "Schema Resolution": promotions). */
const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  null: ['null'],
  boolean: ['boolean'],
  int: ['int'],
  long: ['int', 'long'],
  float: ['int', 'long', 'float'],
  double: ['int', 'long', 'float', 'double'],
  bytes: ['bytes', 'string'],
  string: ['string', 'bytes'],
};

const isUnion = (type: Walkable) => type.typeName.startsWith('union');

function describe(type: Walkable): string {
  return type.name === undefined ? type.typeName : `${type.typeName} ${type.name}`;
}

const unqualified = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/**
 * Avro's `SchemaCompatibility.schemaNameEquals`: named types match when their unqualified names
 * are equal (a namespace change alone is compatible, at any depth) or the writer's full name is
 * one of the reader's aliases.
 */
function namesMatch(reader: Walkable, writer: Walkable): boolean {
  if (writer.name === undefined) return true;
  return unqualified(writer.name) === unqualified(reader.name ?? '') || (reader.aliases ?? []).includes(writer.name);
}

class Walk {
  /** Record pairs being (or already) checked: recursive schemas end here, as avsc's resolver does. */
  private readonly seen = new Set<string>();

  check(writer: Walkable, reader: Walkable, path: string): ResolutionProblem[] {
    if (isUnion(writer)) {
      return (writer.types ?? []).flatMap((branch) => this.check(walkable(branch), reader, path));
    }
    if (isUnion(reader)) {
      const fits = (reader.types ?? []).some(
        (branch) => this.fork().check(writer, walkable(branch), path).length === 0,
      );
      return fits
        ? []
        : [{ path, reason: `no branch of the reader's union can read the writer's ${describe(writer)}` }];
    }
    switch (reader.typeName) {
      case 'record':
      case 'error':
        return this.record(writer, reader, path);
      case 'enum':
        return this.enumeration(writer, reader, path);
      case 'fixed':
        return writer.typeName === 'fixed' && writer.size === reader.size && namesMatch(reader, writer)
          ? []
          : [
              {
                path,
                reason: `cannot read ${describe(writer)} as fixed ${reader.name ?? ''} of size ${reader.size ?? '?'}`,
              },
            ];
      case 'array':
        return writer.typeName === 'array' && writer.itemsType && reader.itemsType
          ? this.check(walkable(writer.itemsType), walkable(reader.itemsType), `${path}[]`)
          : [{ path, reason: `cannot read ${describe(writer)} as an array` }];
      case 'map':
        return writer.typeName === 'map' && writer.valuesType && reader.valuesType
          ? this.check(walkable(writer.valuesType), walkable(reader.valuesType), `${path}{}`)
          : [{ path, reason: `cannot read ${describe(writer)} as a map` }];
      default:
        return (PROMOTIONS[reader.typeName] ?? []).includes(writer.typeName)
          ? []
          : [{ path, reason: `cannot read ${describe(writer)} as ${reader.typeName}` }];
    }
  }

  private fork(): Walk {
    const walk = new Walk();
    for (const key of this.seen) walk.seen.add(key);
    return walk;
  }

  private record(writer: Walkable, reader: Walkable, path: string): ResolutionProblem[] {
    if (writer.typeName !== 'record' && writer.typeName !== 'error')
      return [{ path, reason: `cannot read ${describe(writer)} as record ${reader.name ?? ''}` }];
    if (!namesMatch(reader, writer))
      return [{ path, reason: `record ${reader.name ?? ''} has no alias for the writer's ${writer.name ?? ''}` }];
    const key = `${reader.name ?? ''}:${writer.name ?? ''}`;
    if (this.seen.has(key)) return [];
    this.seen.add(key);
    const writerFields = new Map((writer.fields ?? []).map((field) => [field.name, field]));
    return (reader.fields ?? []).flatMap((field) => {
      const fieldPath = `${path}.${field.name}`;
      const matches = [field.name, ...field.aliases].filter((name) => writerFields.has(name));
      if (matches.length > 1)
        return [{ path: fieldPath, reason: `ambiguous aliases: the writer has ${matches.join(' and ')}` }];
      const match = matches[0] === undefined ? undefined : writerFields.get(matches[0]);
      if (match === undefined) {
        return field.defaultValue() === undefined
          ? [{ path: fieldPath, reason: 'the reader field has no default and the writer does not have it' }]
          : [];
      }
      return this.check(walkable(match.type), walkable(field.type), fieldPath);
    });
  }

  private enumeration(writer: Walkable, reader: Walkable, path: string): ResolutionProblem[] {
    if (writer.typeName !== 'enum')
      return [{ path, reason: `cannot read ${describe(writer)} as enum ${reader.name ?? ''}` }];
    if (!namesMatch(reader, writer))
      return [{ path, reason: `enum ${reader.name ?? ''} has no alias for the writer's ${writer.name ?? ''}` }];
    const missing = (writer.symbols ?? []).filter((symbol) => !(reader.symbols ?? []).includes(symbol));
    return missing.length === 0 || reader.default !== undefined
      ? []
      : [{ path, reason: `the reader enum lacks the writer's symbols ${missing.join(', ')} and has no default` }];
  }
}

/**
 * What stops a reader from decoding data written with `writer` under Avro's schema-resolution
 * rules as Apache Avro's `SchemaCompatibility` checks them (avsc's `createResolver` applies the
 * same rules with `ignoreNamespaces`); empty when the reader can read it all.
 */
export function resolutionProblems(writer: AvroType, reader: AvroType): readonly ResolutionProblem[] {
  const root = walkable(reader);
  return new Walk().check(walkable(writer), root, root.name ?? root.typeName);
}
