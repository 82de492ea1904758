/**
 * How many copies of a topic the cluster keeps: a number, or `auto` — derived from the number of
 * brokers, so one setting fits a laptop's single broker and a production cluster alike.
 */
export type Replication = number | 'auto';

export interface ResolvedReplication {
  readonly factor: number;
  /** `min.insync.replicas`: with acks=all, a write succeeds only once this many replicas have it. */
  readonly minInsync: number;
}

/**
 * `auto`: three copies from three brokers on (the broker count below), two of them in sync — so one
 * broker may fail (or be restarted) without stopping writes, and an acknowledged write survives the
 * loss of any one broker. Below three brokers `min.insync.replicas` is 1: two brokers with 2 in sync
 * would stop every write while either is down. An explicit minimum never exceeds the factor.
 */
export function resolveReplication(factor: Replication, minInsync: Replication, brokers: number): ResolvedReplication {
  const resolvedFactor = factor === 'auto' ? Math.min(3, Math.max(1, brokers)) : factor;
  const resolvedMin = minInsync === 'auto' ? (resolvedFactor >= 3 ? 2 : 1) : Math.min(minInsync, resolvedFactor);
  return { factor: resolvedFactor, minInsync: resolvedMin };
}

/**
 * The warning (or refusal) for an existing topic with fewer replicas than wanted, naming the fix;
 * undefined when it has enough. Kafka never adds replicas by itself, and kappa does not either:
 * reassigning replicas copies the whole log, an operator's decision.
 */
export function underReplicationProblem(topic: string, actual: number, wanted: number): string | undefined {
  if (actual >= wanted) return undefined;
  return (
    `topic ${topic} has ${actual} replica${actual === 1 ? '' : 's'} but the cluster allows ${wanted}: ` +
    `one broker failure can lose or stop it. Add replicas with kafka-reassign-partitions.sh ` +
    `(--reassignment-json-file listing ${wanted} brokers for each partition, then --execute), ` +
    `or set KAPPA_TOPIC_REPLICATION=${actual} to accept it`
  );
}
