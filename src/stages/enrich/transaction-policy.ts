/**
 * How big an enrichment transaction gets. Each transaction costs a fixed handful of round trips
 * (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn and its markers), so a catch-up that
 * commits every 2,000 records spends much of its time committing. Like Kafka Streams'
 * `commit.interval.ms` (100 ms under exactly-once), a transaction here spans up to `maxMs` of work
 * and `maxRecords` input records. On live data it ends with its fetched batch, so every record is
 * committed as soon as its batch is processed; only a catch-up (src/kafka/backlog.ts) carries it
 * into the next batch. 200 ms measured 0.61-0.70 of at-least-once; 1 s 0.97 (bench/README.md).
 */
export interface TransactionPolicy {
  readonly maxMs: number;
  readonly maxRecords: number;
}

/** Records per produce request: a whole decompressed fetch can exceed the broker's request size. */
export const SEND_SLICE = 2_000;

/** The state of an open transaction that the policy looks at. */
export interface OpenTransaction {
  /** Input records in it so far. */
  readonly records: number;
  /** When it was opened (ms, the same clock as `now`). */
  readonly openedAt: number;
}

/** How many records the next slice of a batch may take, given the open transaction (if any). */
export function nextSliceSize(policy: TransactionPolicy, open: OpenTransaction | undefined): number {
  return Math.max(1, Math.min(SEND_SLICE, policy.maxRecords - (open?.records ?? 0)));
}

/** Whether the open transaction commits now: its batch is done, or it reached its records or time. */
export function shouldCommit(
  policy: TransactionPolicy,
  open: OpenTransaction,
  now: number,
  batchDone: boolean,
): boolean {
  return batchDone || open.records >= policy.maxRecords || now - open.openedAt >= policy.maxMs;
}
