/**
 * kafkajs's Batch (kafkajs/src/consumer/batch.js) keeps a fetch's records from the offset it asked
 * for on: `Long.fromValue(record.offset).gte(fetchedOffset)` for every record, which parses each
 * offset's text into a Long — ~3 % of a replay's CPU (bench/README.md). Here the texts are compared
 * as they are.
 *
 * Offsets reach the Batch as kafkajs's decoders write them: the decimal text of a 64-bit integer
 * (`String` of a number or BigInt, or a Long's `toString`), with no leading zero or plus sign. Two
 * such texts of non-negative integers compare as their values: the shorter is the smaller, and
 * equal lengths compare character by character. Anything else (a minus sign, another type) is
 * compared by `slow`, kafkajs's Long, as before.
 */

/** The canonical decimal text of a non-negative integer: "0", "17", not "017", "-1" or "1e3". */
const PLAIN_COUNT = /^(?:0|[1-9][0-9]*)$/;

/**
 * Whether an offset kafkajs decoded is a non-negative integer's text: its first character is a digit,
 * and not a 0 before others. The rest is not checked: kafkajs's decoders write only digits there.
 */
function isPlainOffset(text: unknown): text is string {
  if (typeof text !== 'string' || text.length === 0) return false;
  const first = text.charCodeAt(0);
  return text.length === 1 ? first >= 48 && first <= 57 : first >= 49 && first <= 57;
}

/**
 * `offset >= from` for a decoded record's offset and a `from` that is PLAIN_COUNT's; `slow(offset,
 * from)` (kafkajs's Long comparison) for an offset that is not plain.
 */
export function offsetAtLeast(
  offset: unknown,
  from: string,
  slow: (offset: unknown, from: unknown) => boolean,
): boolean {
  if (!isPlainOffset(offset)) return slow(offset, from);
  if (offset.length !== from.length) return offset.length > from.length;
  return offset >= from;
}

/** A fetched record, as far as the Batch looks at it. */
export interface BatchRecord {
  readonly offset: unknown;
  readonly isControlRecord?: boolean;
}

/** What a Batch keeps of a fetch: its records from `fetchedOffset` on, then without aborted or control records. */
export function batchRecords<T extends BatchRecord>(
  records: readonly T[],
  fetchedOffset: unknown,
  slow: (offset: unknown, from: unknown) => boolean,
  withoutAborted: (records: T[]) => T[],
): { readonly withinOffset: T[]; readonly kept: T[] } {
  const withinOffset =
    typeof fetchedOffset === 'string' && PLAIN_COUNT.test(fetchedOffset)
      ? records.filter((record) => offsetAtLeast(record.offset, fetchedOffset, slow))
      : records.filter((record) => slow(record.offset, fetchedOffset));
  const kept = withoutAborted(withinOffset).filter((record) => !record.isControlRecord);
  return { withinOffset, kept };
}
