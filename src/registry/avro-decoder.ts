import type avro from 'avsc';
import { KafkaContextError } from '../shared/errors.js';
import { countIncident } from '../shared/incidents.js';
import type { Logger } from '../shared/logger.js';
import { maskUrl } from '../shared/mask-url.js';
import { retry, type RetryPolicy } from '../shared/retry.js';
import { projectRecord } from './avro-projection.js';
import { parseAvro, type AvroType } from './avro-schema.js';
import type { Json } from './avro-text.js';
import { schemaIdOf } from './wire-format.js';

/**
 * Why a record cannot be decoded — the record's fault, so it may be dead-lettered. An unknown
 * schema id is not among them: the record is framed right and the registry should know its schema
 * (a registry still loading its log, a wrong KAPPA_REGISTRY_URL), so it throws KAPPA_SCHEMA_NOT_FOUND.
 */
export type DecodeFailure = 'not-avro-wire-format' | 'incompatible-schema' | 'undecodable' | 'unknown-schema-id';

/**
 * What a schema id the registry does not know is to a decoder: the stages stop on it; analyses
 * that only read the log (`recover --plan`, the schema preflight) report it as a result instead.
 */
export type UnknownSchemaIds = 'stop' | 'report';

/** How long a schema id the registry answers 404 for is asked for again (a registry loading its log). */
export const SCHEMA_WAIT: RetryPolicy = Object.freeze({ deadlineMs: 30_000, initialDelayMs: 250, maxDelayMs: 5_000 });

/** SCHEMA_WAIT, each retry logged and counted (`kappa_incidents_total{kind="retry",what="schema-lookup"}`). */
export function schemaWait(logger: Logger): RetryPolicy {
  return {
    ...SCHEMA_WAIT,
    onRetry: (error, attempt, delayMs) => {
      countIncident('retry', 'schema-lookup');
      logger.warn(
        { err: error, attempt, delayMs },
        'the schema registry does not know a schema id (yet); asking again',
      );
    },
  };
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T; readonly schemaId: number }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly detail: string };

const NOT_WIRE_FORMAT = {
  ok: false,
  reason: 'not-avro-wire-format',
  detail: 'the value does not start with the magic byte 0 and a schema id',
} as const;

/** fetch refuses URLs with credentials: they go in a Basic Authorization header instead. */
function registryRequest(registryUrl: string): { url: (schemaId: number) => string; headers: Record<string, string> } {
  const parsed = new URL(registryUrl);
  const headers: Record<string, string> = {};
  if (parsed.username !== '' || parsed.password !== '') {
    const user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  const base = parsed.toString().replace(/\/$/, '');
  return { url: (schemaId) => `${base}/schemas/ids/${schemaId}`, headers };
}

/**
 * Decodes Confluent-framed Avro with a fixed reader schema: the writer schema comes from the
 * registry by id (cached), and Avro schema resolution fills the reader's defaults — so a log that
 * mixes v1 and v2 records decodes uniformly. A bad record is a result, not an exception; an
 * unreachable registry and a schema id it does not know throw (neither is the record's fault, so
 * neither may dead-letter it): a 404 is asked again with back-off (`notFound`), then it is
 * KAPPA_SCHEMA_NOT_FOUND, which stops the stage without committing past the record.
 *
 * With `read`, only those fields of the reader schema are decoded (avro-projection.ts: the others
 * are skipped, and a payload is accepted or refused as with the whole schema); `T` then names
 * only what is read.
 */
export class AvroDecoder<T> {
  /** Decides which writer schemas can be read. */
  private readonly reader: AvroType;
  /** Decodes: the reader schema, or its projection on `read`. */
  private readonly decoding: AvroType;
  private readonly request: ReturnType<typeof registryRequest>;
  private readonly resolvers = new Map<number, Promise<avro.Resolver | DecodeResult<T>>>();
  /** The same, once settled: what `decodeSync` reads. */
  private readonly settled = new Map<number, avro.Resolver | DecodeResult<T>>();

  constructor(
    private readonly registryUrl: string,
    readerSchema: string,
    /** How a schema id the registry does not know is asked for again before giving up. */
    private readonly notFound: RetryPolicy = SCHEMA_WAIT,
    /** `report`: an unknown id decodes as `{ok: false, reason: 'unknown-schema-id'}` (analyses only). */
    private readonly unknownIds: UnknownSchemaIds = 'stop',
    read?: readonly string[],
  ) {
    this.reader = parseAvro(readerSchema);
    this.decoding =
      read === undefined
        ? this.reader
        : parseAvro(JSON.stringify(projectRecord(JSON.parse(readerSchema) as Json, new Set(read))));
    this.request = registryRequest(registryUrl);
  }

  /** The writer schema of `schemaId`, asking again while the registry answers 404 (see `notFound`). */
  private async resolverFor(schemaId: number): Promise<avro.Resolver | DecodeResult<T>> {
    const registry = maskUrl(this.registryUrl);
    let attempts = 0;
    try {
      return await retry((attempt) => {
        attempts = attempt;
        return this.fetchResolver(schemaId, registry);
      }, this.notFound);
    } catch (error) {
      if (!(error instanceof KafkaContextError) || error.code !== 'KAPPA_SCHEMA_NOT_FOUND') throw error;
      if (this.unknownIds === 'report')
        return {
          ok: false,
          reason: 'unknown-schema-id',
          detail: `schema id ${schemaId} is not in the schema registry at ${registry}`,
        };
      // Final: not retriable (kafkajs then does not restart the consumer: the process stops), no cause.
      throw new KafkaContextError(
        'KAPPA_SCHEMA_NOT_FOUND',
        `schema id ${schemaId} is not in the schema registry at ${registry} (asked ${attempts} times); check KAPPA_REGISTRY_URL or register the schema, then start the stage again`,
        { schemaId },
        { retriable: false },
      );
    }
  }

  private async fetchResolver(schemaId: number, registry: string): Promise<avro.Resolver | DecodeResult<T>> {
    const response = await fetch(this.request.url(schemaId), {
      headers: this.request.headers,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 404)
      throw new KafkaContextError(
        'KAPPA_SCHEMA_NOT_FOUND',
        `schema id ${schemaId} is not in the schema registry at ${registry}`,
        { schemaId },
        { retriable: true },
      );
    if (!response.ok)
      throw new Error(`the schema registry at ${registry} answered ${response.status} for schema id ${schemaId}`);
    const { schema } = (await response.json()) as { schema: string };
    try {
      // Namespaces are ignored as Avro's SchemaCompatibility ignores them, so whatever the registry
      // accepted as compatible can be read.
      const writer = parseAvro(schema);
      const resolver = this.reader.createResolver(writer, { ignoreNamespaces: true });
      return this.decoding === this.reader
        ? resolver
        : this.decoding.createResolver(writer, { ignoreNamespaces: true });
    } catch (error) {
      return {
        ok: false,
        reason: 'incompatible-schema',
        detail: `schema id ${schemaId} cannot be read with the reader schema: ${(error as Error).message}`,
      };
    }
  }

  private resolve(schemaId: number): Promise<avro.Resolver | DecodeResult<T>> {
    let resolver = this.resolvers.get(schemaId);
    if (resolver === undefined) {
      resolver = this.resolverFor(schemaId);
      this.resolvers.set(schemaId, resolver);
      // A registry outage must not be cached: the next record asks again.
      resolver.then(
        (resolved) => this.settled.set(schemaId, resolved),
        () => this.resolvers.delete(schemaId),
      );
    }
    return resolver;
  }

  /**
   * Fetches the writer schemas of every payload not seen yet, all at once: after it, `decodeSync`
   * decodes each of them without waiting (no `await` per record in a hot loop).
   */
  async prepare(payloads: Iterable<Buffer | null>): Promise<void> {
    const wanted = new Set<number>();
    for (const payload of payloads) {
      const schemaId = payload === null ? undefined : schemaIdOf(payload);
      if (schemaId !== undefined && !this.settled.has(schemaId)) wanted.add(schemaId);
    }
    for (const schemaId of wanted) this.settled.set(schemaId, await this.resolve(schemaId));
  }

  /**
   * Why records written with `schemaId` cannot be read (the registry does not know it, or the reader
   * schema cannot resolve it), or undefined when they can: what the decoding of any of them would
   * say first, without one at hand.
   */
  async schemaProblem(schemaId: number): Promise<Extract<DecodeResult<T>, { ok: false }> | undefined> {
    const resolved = await this.resolve(schemaId);
    return 'ok' in resolved && !resolved.ok ? resolved : undefined;
  }

  /** Decodes with the writer schemas `prepare` fetched; throws for a schema id it did not prepare. */
  decodeSync(payload: Buffer | null): DecodeResult<T> {
    const schemaId = payload === null ? undefined : schemaIdOf(payload);
    if (payload === null || schemaId === undefined) return NOT_WIRE_FORMAT;
    const resolved = this.settled.get(schemaId);
    if (resolved === undefined) throw new Error(`schema id ${schemaId} was not prepared`);
    return this.read(payload, schemaId, resolved);
  }

  async decode(payload: Buffer | null): Promise<DecodeResult<T>> {
    const schemaId = payload === null ? undefined : schemaIdOf(payload);
    if (payload === null || schemaId === undefined) return NOT_WIRE_FORMAT;
    return this.read(payload, schemaId, await this.resolve(schemaId));
  }

  private read(payload: Buffer, schemaId: number, resolved: avro.Resolver | DecodeResult<T>): DecodeResult<T> {
    if ('ok' in resolved) return resolved;
    try {
      // `decode` reads in place from byte 5 (no `subarray` view per record: a typed array costs more
      // to create than the record's decoding); a payload must end exactly where the record does.
      const decoded = this.decoding.decode(payload, 5, resolved);
      if (decoded.offset !== payload.length)
        return {
          ok: false,
          reason: 'undecodable',
          detail: `schema id ${schemaId}: ${decoded.offset < 0 ? 'truncated buffer' : 'trailing data'}`,
        };
      return { ok: true, value: decoded.value as T, schemaId };
    } catch (error) {
      return { ok: false, reason: 'undecodable', detail: `schema id ${schemaId}: ${(error as Error).message}` };
    }
  }
}
