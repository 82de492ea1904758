import type { Kafka } from 'kafkajs';
import { AvroDecoder, type DecodeResult } from '../registry/avro-decoder.js';
import { newestSchema } from '../registry/schema-history.js';
import { schemaIdOf } from '../registry/wire-format.js';
import { KappaError } from '../shared/errors.js';
import { scanLog } from './log-scan.js';

/** One writer schema id found in the log (null: records not in the Avro wire format at all). */
export interface SchemaIdReport {
  readonly schemaId: number | null;
  readonly records: number;
  /** The registry knows the id. */
  readonly resolves: boolean;
  /** The version's reader schema can read what the id wrote. */
  readonly readable: boolean;
  /** Why not, when it does not resolve or cannot be read. */
  readonly problem?: string;
  /** Records the replay would dead-letter, by reason (only when every record was decoded: `--plan`). */
  readonly deadLetters: Readonly<Record<string, number>>;
}

/** The newest reader schema of `subject` in schemas/ (`events_stages` for the aggregator, `events` for enrichment). */
export async function readerDecoder<T>(
  registryUrl: string,
  schemasDir: string,
  subject: string,
): Promise<AvroDecoder<T>> {
  const schema = await newestSchema(schemasDir, subject);
  // An analysis reports the ids the registry does not know (asked once) instead of stopping on them.
  return new AvroDecoder<T>(registryUrl, schema, { attempts: 1 }, 'report');
}

/**
 * Counts records per writer schema id and, per id, whether it resolves and is readable: the
 * preflight of `recover` (issue 26). Feed every record's value to `add`, and the reasons of bad
 * records to `deadLetter`; `report` then asks the registry once per id.
 */
export class SchemaTally<T> {
  /** `sample`: one record's value, undefined for ids only known from recorded counts. */
  private readonly ids = new Map<
    number | null,
    { records: number; sample: Buffer | null | undefined; dead: Map<string, number> }
  >();

  constructor(private readonly decoder: AvroDecoder<T>) {}

  private entryOf(schemaId: number | null, sample: Buffer | null | undefined) {
    let entry = this.ids.get(schemaId);
    if (entry === undefined) {
      entry = { records: 0, sample, dead: new Map() };
      this.ids.set(schemaId, entry);
    } else entry.sample ??= sample;
    return entry;
  }

  private entry(value: Buffer | null) {
    return this.entryOf(value === null ? null : (schemaIdOf(value) ?? null), value);
  }

  add(value: Buffer | null): void {
    this.entry(value).records += 1;
  }

  /** Records counted elsewhere (a version's progress: aggregates/schema-counts.ts). */
  addCounts(counts: ReadonlyMap<number | null, number>): void {
    for (const [schemaId, records] of counts) this.entryOf(schemaId, undefined).records += records;
  }

  deadLetter(value: Buffer | null, reason: string): void {
    const { dead } = this.entry(value);
    dead.set(reason, (dead.get(reason) ?? 0) + 1);
  }

  async report(): Promise<SchemaIdReport[]> {
    const reports: SchemaIdReport[] = [];
    for (const [schemaId, entry] of [...this.ids].sort(([a], [b]) => (a ?? -1) - (b ?? -1))) {
      let failure: Extract<DecodeResult<T>, { ok: false }> | undefined;
      if (entry.sample !== undefined) {
        const decoded: DecodeResult<T> = await this.decoder.decode(entry.sample);
        failure = decoded.ok ? undefined : decoded;
      } else if (schemaId !== null) failure = await this.decoder.schemaProblem(schemaId);
      const resolves = schemaId !== null && failure?.reason !== 'unknown-schema-id';
      const readable = resolves && failure?.reason !== 'incompatible-schema';
      reports.push({
        schemaId,
        records: entry.records,
        resolves,
        readable,
        ...(resolves && readable ? {} : { problem: failure?.detail ?? 'not in the Avro wire format' }),
        deadLetters: Object.fromEntries(entry.dead),
      });
    }
    return reports;
  }
}

/** Ids the registry does not know: `recover` refuses to start on them (unless `--allow-dead-letters`). */
export function unresolvable(reports: readonly SchemaIdReport[]): number[] {
  return reports.flatMap((report) => (report.schemaId !== null && !report.resolves ? [report.schemaId] : []));
}

/** The refusal, naming the ids and their record counts. */
export function preflightRefusal(topic: string, reports: readonly SchemaIdReport[]): KappaError | undefined {
  const ids = unresolvable(reports);
  if (ids.length === 0) return undefined;
  const counts = reports
    .filter((report) => report.schemaId !== null && ids.includes(report.schemaId))
    .map((report) => `${report.schemaId} (${report.records} records)`)
    .join(', ');
  return new KappaError(
    'KAPPA_RECOVER_PREFLIGHT',
    `${topic} holds records written with schema ids the registry does not know: ${counts}; the replay would dead-letter them. Register the schemas again, or pass --allow-dead-letters to replay anyway`,
  );
}

/**
 * The preflight `recover` runs before replaying (issue 26): the writer schema ids in `topic` with
 * their record counts, each resolved once in the registry and checked against the reader schema of
 * `subject`. Reads the log without decoding records (a few seconds per million), except where
 * `known` says what was read below an offset of a partition (a version's progress, with its records
 * by schema id: aggregates/schema-counts.ts): there it reads only beyond. `scanned`: records read.
 */
export async function preflightSchemas(
  source: {
    readonly kafka: Kafka;
    readonly registryUrl: string;
    readonly schemasDir: string;
    readonly signal?: AbortSignal;
  },
  topic: string,
  subject: 'events' | 'events_stages',
  known: ReadonlyMap<
    number,
    { readonly next: bigint; readonly counts: ReadonlyMap<number | null, number> }
  > = new Map(),
): Promise<{ reports: SchemaIdReport[]; scanned: number }> {
  const tally = new SchemaTally(await readerDecoder(source.registryUrl, source.schemasDir, subject));
  for (const { counts } of known.values()) tally.addCounts(counts);
  let scanned = 0;
  await scanLog(
    source.kafka,
    topic,
    ({ records }) => {
      scanned += records.length;
      for (const record of records) tally.add(record.value);
    },
    source.signal,
    // No seeks at all when nothing is known: the scan starts at the log's start as it always did.
    known.size === 0 ? undefined : new Map([...known].map(([partition, { next }]) => [partition, next])),
  );
  return { reports: await tally.report(), scanned };
}
