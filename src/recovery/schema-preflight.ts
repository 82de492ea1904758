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
  private readonly ids = new Map<
    number | null,
    { records: number; sample: Buffer | null; dead: Map<string, number> }
  >();

  constructor(private readonly decoder: AvroDecoder<T>) {}

  private entry(value: Buffer | null) {
    const schemaId = value === null ? null : (schemaIdOf(value) ?? null);
    let entry = this.ids.get(schemaId);
    if (entry === undefined) {
      entry = { records: 0, sample: value, dead: new Map() };
      this.ids.set(schemaId, entry);
    }
    return entry;
  }

  add(value: Buffer | null): void {
    this.entry(value).records += 1;
  }

  deadLetter(value: Buffer | null, reason: string): void {
    const { dead } = this.entry(value);
    dead.set(reason, (dead.get(reason) ?? 0) + 1);
  }

  async report(): Promise<SchemaIdReport[]> {
    const reports: SchemaIdReport[] = [];
    for (const [schemaId, entry] of [...this.ids].sort(([a], [b]) => (a ?? -1) - (b ?? -1))) {
      const decoded: DecodeResult<T> = await this.decoder.decode(entry.sample);
      const failure = decoded.ok ? undefined : decoded;
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
 * `subject`. Reads the log once without decoding records (a few seconds per million).
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
): Promise<SchemaIdReport[]> {
  const tally = new SchemaTally(await readerDecoder(source.registryUrl, source.schemasDir, subject));
  await scanLog(
    source.kafka,
    topic,
    ({ records }) => {
      for (const record of records) tally.add(record.value);
    },
    source.signal,
  );
  return tally.report();
}
