import { schemaIdOf } from '../registry/wire-format.js';

/**
 * How many records of a partition a version has read, by writer schema id (null: not in the Avro
 * wire format), from the log's start to its committed progress: committed with the progress, in the
 * same transaction, so `recover`'s preflight need only read the log beyond the most advanced version
 * (recovery/schema-preflight.ts). The log below an offset never changes (retention only removes),
 * so what one version read there is what any replay reads there, or less.
 */
export type SchemaCounts = Map<number | null, number>;

/** The key a record's value is counted under. */
function schemaKey(value: Buffer | null): number | null {
  return (value === null ? undefined : schemaIdOf(value)) ?? null;
}

/**
 * Counts records into `counts` a run at a time: a log's records mostly share their writer schema,
 * so consecutive records of one id are one addition to the map, made by `settled()`.
 */
export class SchemaCounter {
  private id: number | null = null;
  private run = 0;

  constructor(private readonly counts: SchemaCounts) {}

  count(value: Buffer | null): void {
    const key = schemaKey(value);
    if (key !== this.id) {
      this.settle();
      this.id = key;
    }
    this.run += 1;
  }

  /** The counts of every record counted so far. */
  settled(): SchemaCounts {
    this.settle();
    return this.counts;
  }

  private settle(): void {
    if (this.run === 0) return;
    this.counts.set(this.id, (this.counts.get(this.id) ?? 0) + this.run);
    this.run = 0;
  }
}

const NONE = 'none';

/** As stored: `{"<id>": records, …, "none": records}`. */
export function schemaCountsJson(counts: ReadonlyMap<number | null, number>): string {
  return JSON.stringify(
    Object.fromEntries(
      [...counts].sort(([a], [b]) => (a ?? Infinity) - (b ?? Infinity)).map(([id, n]) => [id ?? NONE, n]),
    ),
  );
}

/** What `schemaCountsJson` wrote; undefined for anything else (a hand-edited or damaged row is not trusted). */
export function parseSchemaCounts(text: string): SchemaCounts | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const counts: SchemaCounts = new Map();
  for (const [key, value] of Object.entries(parsed)) {
    const id = key === NONE ? null : Number(key);
    if (id !== null && (!/^-?\d{1,10}$/.test(key) || id < -2_147_483_648 || id > 2_147_483_647)) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return undefined;
    counts.set(id, value);
  }
  return counts;
}
