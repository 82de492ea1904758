/**
 * Process-wide counts of what kappa recovered from without stopping: errors it caught and went on
 * past (`swallowed`), work it did again (`retry`), records it dropped by policy (`skipped`). Each
 * call site also logs its own line; /metrics exports these as `kappa_incidents_total{kind,what}`,
 * so nothing is dropped or retried uncounted. `what` is a short fixed name, never a value
 * (unbounded label sets would grow Prometheus's memory).
 */
export type IncidentKind = 'swallowed' | 'retry' | 'skipped';

export interface IncidentCount {
  readonly kind: IncidentKind;
  readonly what: string;
  readonly count: number;
}

const counts = new Map<string, IncidentCount>();

export function countIncident(kind: IncidentKind, what: string, n = 1): void {
  const key = `${kind}\u0000${what}`;
  counts.set(key, { kind, what, count: (counts.get(key)?.count ?? 0) + n });
}

export function incidentCounts(): readonly IncidentCount[] {
  return [...counts.values()];
}
