import { Long, type Db, type Document } from 'mongodb';
import type { Dimension } from '../model/dimensions.js';
import { DIGEST_MODULUS, type WindowDigest } from './window-digest.js';

/** The MongoDB sink's window digests: one document per (version, dim, window), as MySQL's `kappa_window_digests`. */
export const MONGO_DIGESTS = 'kappa_window_digests';

const HALF = 1n << 32n;

/**
 * A commit's digest increments as guarded upserts, applied with the commit's rows by the same rule
 * (`kappa_applied.<partition>` below the commit number): each commit adds once, exactly as its rows.
 *
 * MongoDB's `$inc` has no modulus and fails on a 64-bit overflow, so a digest is kept as two 64-bit
 * sums of its 32-bit halves (each increment adds less than 2^32 to each: 2^31 commits per window
 * before either could overflow); the reader folds them back modulo 2^64.
 */
export function digestUpdates(
  version: string,
  increments: readonly WindowDigest[],
  applied: string,
  seq: number,
): { filter: Document; update: Document }[] {
  return increments.map((entry) => ({
    filter: {
      _id: { version, dim: entry.dim, window_start_ms: entry.windowStart },
      $or: [{ [applied]: { $exists: false } }, { [applied]: { $lt: seq } }],
    },
    update: {
      $set: { version, dim: entry.dim, window_start_ms: entry.windowStart, [applied]: seq },
      $inc: {
        digest_hi: Long.fromBigInt(entry.digest / HALF),
        digest_lo: Long.fromBigInt(entry.digest % HALF),
        total: Long.fromNumber(entry.total),
      },
    },
  }));
}

/** A stored sum: a Long as written, or a plain number (MongoDB narrows small values). */
const big = (value: unknown): bigint => {
  if (value instanceof Long) return value.toBigInt();
  return typeof value === 'number' ? BigInt(value) : 0n;
};

/** A version's digests of one dimension, by window start (ms): what `kappa verify` compares. */
export async function readMongoDigests(
  db: Db,
  version: string,
  dim: Dimension,
): Promise<Map<number, { readonly digest: bigint; readonly total: number }>> {
  const docs = await db.collection(MONGO_DIGESTS).find({ version, dim }).toArray();
  return new Map(
    docs.map((doc) => [
      Number(doc['window_start_ms']),
      {
        digest: (big(doc['digest_hi']) * HALF + big(doc['digest_lo'])) % DIGEST_MODULUS,
        total: Number(big(doc['total'])),
      },
    ]),
  );
}
