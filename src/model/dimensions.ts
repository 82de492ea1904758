import type { EnrichedEvent } from './enriched-event.js';

/**
 * A dimension, defined once: everything else (tables, columns, the engine's keys, API routes,
 * the `--dims` list) derives from this record. Adding a dimension is adding an entry here.
 */
export interface DimensionSpec {
  /** Its name in `--dims` and in the engine's rows. */
  readonly name: string;
  /** Table of a version: `${table}_${version}`; the reader view is `${table}`. */
  readonly table: string;
  /** The key column of that table. */
  readonly column: string;
  /** The key column's SQL type; text keys get a binary, no-pad collation (migrations.ts: compared exactly, SPEC §1.3). */
  readonly sqlType: string;
  /** Longest key the column holds, in characters (code points); undefined for numeric keys. */
  readonly maxLength?: number;
  /** Whether the key is a number in SQL (and in MongoDB). */
  readonly numeric: boolean;
  /** `/api/windows/<segment>`. */
  readonly segment: string;
  /** The field of the enriched event the key is read from (all a version's aggregator decodes, with `time`). */
  readonly field: DimensionField;
}

/** The fields of an enriched event that dimensions key on. */
export type DimensionField = 'user_name' | 'dept_name' | 'age' | 'gender';

/** What the keys of an event are read from: its dimensions' fields, those of other dimensions perhaps absent. */
export type DimensionFields = Readonly<Partial<Pick<EnrichedEvent, DimensionField>>>;

const TEXT_KEY = 'VARCHAR(191)';

export const DIMENSION_SPECS = {
  user: {
    name: 'user',
    table: 'events_users',
    column: 'user_name',
    field: 'user_name',
    sqlType: TEXT_KEY,
    maxLength: 191,
    numeric: false,
    segment: 'users',
  },
  dept: {
    name: 'dept',
    table: 'events_depts',
    column: 'dept_name',
    field: 'dept_name',
    sqlType: TEXT_KEY,
    maxLength: 191,
    numeric: false,
    segment: 'depts',
  },
  age: {
    name: 'age',
    table: 'events_ages',
    column: 'age',
    field: 'age',
    sqlType: 'INT',
    numeric: true,
    segment: 'ages',
  },
  gender: {
    name: 'gender',
    table: 'events_genders',
    column: 'gender',
    field: 'gender',
    sqlType: TEXT_KEY,
    maxLength: 191,
    numeric: false,
    segment: 'genders',
  },
} as const satisfies Record<string, DimensionSpec>;

export type Dimension = keyof typeof DIMENSION_SPECS;
export const DIMENSIONS = Object.keys(DIMENSION_SPECS) as readonly Dimension[];
/** What a version aggregates unless told otherwise (`kappa up`, `aggregate`, `recover` alike). */
export const DEFAULT_DIMS: readonly Dimension[] = ['user', 'dept', 'age'];

export function isDimension(name: string): name is Dimension {
  return Object.hasOwn(DIMENSION_SPECS, name);
}

export function dimensionSpec(dim: Dimension): DimensionSpec {
  return DIMENSION_SPECS[dim];
}

/** The key as its column stores it. */
export function sqlKey(dim: Dimension, key: string): string | number {
  return DIMENSION_SPECS[dim].numeric ? Number(key) : key;
}

/** The dimension served at `/api/windows/<segment>`, if any. */
export function dimensionOfSegment(segment: string): Dimension | undefined {
  return DIMENSIONS.find((dim) => DIMENSION_SPECS[dim].segment === segment);
}

/** The key of an event in `dim`: its field (`field`, when the caller looked it up already), as text. */
export function keyOf(dim: Dimension, event: DimensionFields, field = DIMENSION_SPECS[dim].field): string {
  const value = event[field];
  // Absent only when the record was decoded without this dimension's field: a caller's bug.
  if (value === undefined) throw new Error(`the event has no ${field} (dimension ${dim})`);
  return typeof value === 'string' ? value : String(value);
}

/**
 * Why a key cannot be stored (longer than its column), or undefined. Such a record is bad: it is
 * dead-lettered, never a commit that fails forever.
 */
export function keyProblem(dim: Dimension, key: string): string | undefined {
  const spec: DimensionSpec = DIMENSION_SPECS[dim];
  if (spec.maxLength === undefined || key.length <= spec.maxLength) return undefined;
  const length = [...key].length;
  return length <= spec.maxLength
    ? undefined
    : `the ${dim} key is ${length} characters long; its column holds ${spec.maxLength}`;
}
