import type { EnrichedEvent } from '../model/enriched-event.js';
import type { DecodeResult } from '../registry/avro-decoder.js';
import { enrich, invalidReason, keysProblem, type EnrichmentTables, type RawEvent } from '../stages/enrich/rules.js';

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
 * The enrichment stage's decision for one raw record (src/stages/enrich/run.ts): decode, the
 * time checks bounded by the record's timestamp, the rules, the key lengths. The enrichment writes
 * the record's timestamp with it, so the aggregator then bounds the time by the same instant.
 */
export function enrichForPlan(
  decoded: DecodeResult<RawEvent>,
  bound: { readonly timestampMs: number; readonly timeZone: string; readonly maxFutureMs: number },
  tables: EnrichmentTables,
): Enriched {
  if (!decoded.ok) return { kind: 'dead', reason: decoded.reason, detail: decoded.detail };
  const invalid = invalidReason(decoded.value, bound);
  if (invalid !== undefined) return { kind: 'dead', ...invalid };
  const value = enrich(decoded.value, tables);
  const problem = keysProblem(value);
  if (problem !== undefined) return { kind: 'dead', ...problem };
  return { kind: 'stages', decoded: { ok: true, value, schemaId: decoded.schemaId } };
}
