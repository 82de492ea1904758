import type { EnrichedEvent } from '../model/enriched-event.js';
import type { DecodeResult } from '../registry/avro-decoder.js';
import { enrichRecord, type EnrichmentTables, type RawEvent, type TimeBound } from '../stages/enrich/rules.js';

/** What `recover --plan --from <events>` needs to enrich in memory, as the replay's enrichment will. */
export interface FullChainPlan {
  readonly eventsTopic: string;
  readonly tables: EnrichmentTables;
}

/** A raw record as the aggregator will see it after enrichment: its stages record, or a dead letter of the enrichment. */
export type Enriched =
  | { readonly kind: 'stages'; readonly decoded: DecodeResult<EnrichedEvent> }
  | { readonly kind: 'dead'; readonly reason: string; readonly detail: string };

/**
 * The enrichment stage's decision for one raw record (stages/enrich/rules.ts `enrichRecord`, as
 * run.ts decides). The enrichment writes the record's timestamp with it, so the aggregator then
 * bounds the time by the same instant.
 */
export function enrichForPlan(decoded: DecodeResult<RawEvent>, bound: TimeBound, tables: EnrichmentTables): Enriched {
  if (!decoded.ok) return { kind: 'dead', reason: decoded.reason, detail: decoded.detail };
  const outcome = enrichRecord(decoded, bound, tables);
  return outcome.kind === 'dead'
    ? outcome
    : { kind: 'stages', decoded: { ok: true, value: outcome.value, schemaId: decoded.schemaId } };
}
