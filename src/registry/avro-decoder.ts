import type avro from 'avsc';
import { parseAvro, type AvroType } from './avro-schema.js';
import { schemaIdOf } from './wire-format.js';

export type DecodeFailure = 'not-avro-wire-format' | 'unknown-schema-id' | 'incompatible-schema' | 'undecodable';

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T; readonly schemaId: number }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly detail: string };

/**
 * Decodes Confluent-framed Avro with a fixed reader schema: the writer schema comes from the
 * registry by id (cached), and Avro schema resolution fills the reader's defaults — so a log that
 * mixes v1 and v2 records decodes uniformly. A bad record is a result, not an exception; only an
 * unreachable registry throws (that is not the record's fault, so it must not dead-letter it).
 */
export class AvroDecoder<T> {
  private readonly reader: AvroType;
  private readonly resolvers = new Map<number, Promise<avro.Resolver | DecodeResult<T>>>();

  constructor(
    private readonly registryUrl: string,
    readerSchema: string,
  ) {
    this.reader = parseAvro(readerSchema);
  }

  private async resolverFor(schemaId: number): Promise<avro.Resolver | DecodeResult<T>> {
    const response = await fetch(`${this.registryUrl}/schemas/ids/${schemaId}`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 404)
      return { ok: false, reason: 'unknown-schema-id', detail: `schema id ${schemaId} is not in the registry` };
    if (!response.ok) throw new Error(`schema registry answered ${response.status} for schema id ${schemaId}`);
    const { schema } = (await response.json()) as { schema: string };
    try {
      // Namespaces are ignored as Avro's SchemaCompatibility ignores them, so whatever the registry
      // accepted as compatible can be read.
      return this.reader.createResolver(parseAvro(schema), { ignoreNamespaces: true });
    } catch (error) {
      return {
        ok: false,
        reason: 'incompatible-schema',
        detail: `schema id ${schemaId} cannot be read with the reader schema: ${(error as Error).message}`,
      };
    }
  }

  async decode(payload: Buffer | null): Promise<DecodeResult<T>> {
    const schemaId = payload === null ? undefined : schemaIdOf(payload);
    if (payload === null || schemaId === undefined)
      return {
        ok: false,
        reason: 'not-avro-wire-format',
        detail: 'the value does not start with the magic byte 0 and a schema id',
      };
    let resolver = this.resolvers.get(schemaId);
    if (resolver === undefined) {
      resolver = this.resolverFor(schemaId);
      this.resolvers.set(schemaId, resolver);
      // A registry outage must not be cached: the next record asks again.
      resolver.catch(() => this.resolvers.delete(schemaId));
    }
    const resolved = await resolver;
    if ('ok' in resolved) return resolved;
    try {
      return { ok: true, value: this.reader.fromBuffer(payload.subarray(5), resolved) as T, schemaId };
    } catch (error) {
      return { ok: false, reason: 'undecodable', detail: `schema id ${schemaId}: ${(error as Error).message}` };
    }
  }
}
