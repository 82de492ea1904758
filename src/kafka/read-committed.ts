/**
 * read_committed filtering of fetched records, as the Java consumer does it (Fetcher /
 * CompletedFetch): the broker sends the records up to the last stable offset plus the list of
 * transactions aborted in that range, each as (producer id, first offset); a client drops every
 * transactional record of an aborted transaction, from its first offset up to its abort marker.
 *
 * kafkajs 2.2.4 gets this wrong when a partition holds several aborted transactions: it takes the
 * broker's list in the order given (the broker lists them in abort-marker order, not by first
 * offset) and starts at most one transaction per record. Records of the others leak to the
 * application — after a stage crash with several open transactions, a "read_committed" kafkajs
 * consumer sees aborted records that the stage wrote again. `src/kafka/kafkajs.ts` installs this
 * filter in place of kafkajs's own.
 */

/** An aborted transaction as the fetch response lists it (kafkajs decodes both as strings). */
export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/** The parts of a fetched record the filter looks at (a kafkajs message has them). */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

/** A control record's key: version (int16) and type (int16), 0 = ABORT, 1 = COMMIT. */
function isAbortMarker(record: FetchedRecord): boolean {
  const key = record.key;
  return record.isControlRecord === true && key !== null && key.length >= 4 && key.readInt16BE(2) === 0;
}

/**
 * The records of a fetch without those of aborted transactions (control records are kept: the
 * caller drops them). `records` are in offset order, as fetched.
 */
export function filterAbortedRecords<T extends FetchedRecord>(
  records: readonly T[],
  aborted: readonly AbortedTransaction[] | undefined,
): T[] {
  if (aborted === undefined || aborted.length === 0) return [...records];
  const pending = [...aborted].sort((a, b) => {
    const diff = BigInt(a.firstOffset) - BigInt(b.firstOffset);
    return diff < 0n ? -1 : diff > 0n ? 1 : 0;
  });
  const abortedProducers = new Set<string>();
  let next = 0;
  return records.filter((record) => {
    const offset = BigInt(record.offset);
    // Every aborted transaction that has started by this offset, not just the first one.
    while (next < pending.length && BigInt(pending[next]?.firstOffset ?? 0) <= offset) {
      abortedProducers.add(pending[next]?.producerId ?? '');
      next += 1;
    }
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord === true) {
      if (isAbortMarker(record)) abortedProducers.delete(producerId);
      return true;
    }
    return !(inTransaction && abortedProducers.has(producerId));
  });
}
