/** JSON values as they appear in a schema document. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** Avro's primitive type names. */
export const PRIMITIVES: ReadonlySet<string> = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);
const SCHEMA_RESERVED = new Set([
  'type',
  'name',
  'namespace',
  'doc',
  'fields',
  'symbols',
  'default',
  'size',
  'items',
  'values',
  'aliases',
]);
const FIELD_RESERVED = new Set(['name', 'type', 'doc', 'default', 'order', 'aliases']);

export const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface FullName {
  readonly name: string;
  readonly space: string | undefined;
}

function fullName(name: string, space: string | undefined): FullName {
  const dot = name.lastIndexOf('.');
  if (dot >= 0) return { name: name.slice(dot + 1), space: name.slice(0, dot) || undefined };
  return { name, space: space || undefined };
}

const qualified = (full: FullName) => (full.space === undefined ? full.name : `${full.space}.${full.name}`);

/** Avro's Name.getQualified: the short name inside its own namespace (unless it is a primitive's name). */
function relativeTo(full: FullName, space: string | undefined): string {
  return full.space !== undefined && full.space === space && !PRIMITIVES.has(full.name) ? full.name : qualified(full);
}

/**
 * Writes a schema the way Apache Avro's `Schema.toString()` does — which is the text Confluent's
 * registry stores and returns for an Avro schema: no whitespace, Avro's key order (`type`, `name`,
 * `namespace`, `doc`, `fields` …, custom properties, `aliases`), a namespace written only where it
 * differs from the enclosing one, a named type written in full once and by name afterwards. So
 * `{"name":"com.x.N"}` and `{"name":"N","namespace":"com.x"}` come out as the same text, which is
 * what the registry deduplicates on. Defaults, docs, aliases and logical types are kept: schemas
 * that resolve differently never share a text. The input must already be a valid schema.
 */
export function avroSchemaText(schema: Json): string {
  return new Writer().write(schema, undefined);
}

class Writer {
  private readonly defined = new Set<string>();

  write(node: Json, space: string | undefined): string {
    if (Array.isArray(node)) return `[${node.map((branch: Json) => this.write(branch, space)).join(',')}]`;
    if (typeof node === 'string') return this.reference(node, space);
    if (!isObject(node)) return JSON.stringify(node);
    const type = node['type'];
    if (typeof type !== 'string') return this.write(type ?? null, space);
    switch (type) {
      case 'record':
      case 'error':
      case 'enum':
      case 'fixed':
        return this.named(node, type, space);
      case 'array':
        return this.object([
          ['type', '"array"'],
          ['items', this.write(node['items'] ?? null, space)],
          ...props(node, SCHEMA_RESERVED),
        ]);
      case 'map':
        return this.object([
          ['type', '"map"'],
          ['values', this.write(node['values'] ?? null, space)],
          ...props(node, SCHEMA_RESERVED),
        ]);
      default: {
        const extra = props(node, SCHEMA_RESERVED);
        if (!PRIMITIVES.has(type)) return this.reference(type, space);
        return extra.length === 0 ? JSON.stringify(type) : this.object([['type', JSON.stringify(type)], ...extra]);
      }
    }
  }

  private reference(name: string, space: string | undefined): string {
    if (PRIMITIVES.has(name)) return JSON.stringify(name);
    // A bare name is looked up in the enclosing namespace first, as Avro's parser does.
    const inSpace = fullName(name, space);
    const full = this.defined.has(qualified(inSpace)) ? inSpace : fullName(name, undefined);
    return JSON.stringify(relativeTo(full, space));
  }

  private named(node: JsonObject, type: string, space: string | undefined): string {
    const declaredSpace = typeof node['namespace'] === 'string' ? node['namespace'] : space;
    const full = fullName(typeof node['name'] === 'string' ? node['name'] : '', declaredSpace);
    this.defined.add(qualified(full));
    const entries: [string, string][] = [
      ['type', JSON.stringify(type)],
      ['name', JSON.stringify(full.name)],
    ];
    if (full.space !== space) entries.push(['namespace', JSON.stringify(full.space ?? '')]);
    if (typeof node['doc'] === 'string') entries.push(['doc', JSON.stringify(node['doc'])]);
    if (type === 'enum') {
      entries.push(['symbols', JSON.stringify(node['symbols'] ?? [])]);
      if (node['default'] !== undefined) entries.push(['default', JSON.stringify(node['default'])]);
    } else if (type === 'fixed') {
      entries.push(['size', JSON.stringify(node['size'] ?? 0)]);
    } else {
      const fields = Array.isArray(node['fields']) ? (node['fields'] as readonly Json[]) : [];
      entries.push(['fields', `[${fields.map((field) => this.field(field, full.space)).join(',')}]`]);
    }
    entries.push(...props(node, SCHEMA_RESERVED));
    const aliases = Array.isArray(node['aliases'])
      ? (node['aliases'] as readonly Json[]).filter((alias) => typeof alias === 'string')
      : [];
    if (aliases.length > 0)
      entries.push([
        'aliases',
        JSON.stringify(aliases.map((alias) => relativeTo(fullName(alias, full.space), full.space))),
      ]);
    return this.object(entries);
  }

  private field(field: Json, space: string | undefined): string {
    if (!isObject(field)) return JSON.stringify(field);
    const entries: [string, string][] = [
      ['name', JSON.stringify(field['name'])],
      ['type', this.write(field['type'] ?? null, space)],
    ];
    if (typeof field['doc'] === 'string') entries.push(['doc', JSON.stringify(field['doc'])]);
    if (field['default'] !== undefined) entries.push(['default', JSON.stringify(field['default'])]);
    if (typeof field['order'] === 'string' && field['order'] !== 'ascending')
      entries.push(['order', JSON.stringify(field['order'])]);
    if (Array.isArray(field['aliases']) && field['aliases'].length > 0)
      entries.push(['aliases', JSON.stringify(field['aliases'])]);
    entries.push(...props(field, FIELD_RESERVED));
    return this.object(entries);
  }

  private object(entries: readonly (readonly [string, string])[]): string {
    return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
  }
}

/** Custom properties (logicalType among them), in the order written, as Avro keeps them. */
function props(node: JsonObject, reserved: ReadonlySet<string>): [string, string][] {
  return Object.keys(node)
    .filter((key) => !reserved.has(key))
    .map((key) => [key, JSON.stringify(node[key])]);
}
