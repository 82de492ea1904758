/**
 * Records a partition may be behind the end of its log and still count as live. Further behind, a
 * stage is catching up: it carries work from one fetched batch into the next (an aggregator commit,
 * an enrichment transaction) and ends it by its own limits — about once per second of work —
 * rather than once per fetch. Not zero: under read_committed an open upstream transaction keeps the
 * readable end below the high watermark on a live log too (a live enrichment's transaction holds
 * one fetched batch), and a live stage must end its work with every batch.
 */
export const LIVE_LAG_RECORDS = 10_000n;

/** One past a fetched batch's last offset (control records included); undefined for an empty batch. */
export function batchEnd(batch: { firstOffset(): string | null; lastOffset(): string }): bigint | undefined {
  return batch.firstOffset() === null ? undefined : BigInt(batch.lastOffset()) + 1n;
}

/** Whether more than LIVE_LAG_RECORDS wait behind a batch ending at `end` (one past its last offset). */
export function isBacklog(end: bigint | undefined, highWatermark: string | bigint): boolean {
  return end !== undefined && BigInt(highWatermark) - end > LIVE_LAG_RECORDS;
}

/** Where a kafkajs batch's fetch started, control records included (kafkajs keeps it, untyped). */
export function fetchedFrom(batch: object): bigint | undefined {
  const offset = (batch as { fetchedOffset?: unknown }).fetchedOffset;
  return typeof offset === 'string' || typeof offset === 'number' ? BigInt(offset) : undefined;
}
