import { createHash } from 'node:crypto';
import { sqlKey, type Dimension } from '../model/dimensions.js';
import type { WindowRow } from './window-engine.js';

/**
 * Per-window digests (issue 26, `kappa verify`). A window's digest is a function of its final rows
 * only: D = Σ over rows of count · h(key) mod 2^64, with h(key) the first 8 bytes of SHA-256 of the
 * key as SQL stores it, made odd.
 *
 * Why linear in the count rather than a hash of (key, count): the sinks add increments
 * (`count = count + …`, one per partition and commit), and a linear digest takes the same
 * increments — `D += Δ · h(key)` — without reading the old count, in any order, from any number of
 * instances. h(key) being odd, a single row differing by any Δ ≠ 0 (|Δ| < 2^63) always changes D;
 * several differing rows cancel only by chance (about 2^-63 per window for unrelated keys).
 */
export const DIGEST_MODULUS = 1n << 64n;

/** A window's digest and total count: what `verify` compares instead of every row. */
export interface WindowDigest {
  readonly dim: Dimension;
  readonly windowStart: number;
  /** Σ count · h(key) mod 2^64. */
  readonly digest: bigint;
  /** Σ count: an increment adds to it too, and it makes a report readable. */
  readonly total: number;
}

const hashes = new Map<string, bigint>();

/** h(key): the key as SQL stores it (numbers as their decimal text), hashed; odd by construction. */
export function keyHash(dim: Dimension, key: string): bigint {
  const text = String(sqlKey(dim, key));
  const cached = hashes.get(text);
  if (cached !== undefined) return cached;
  const value = createHash('sha256').update(text, 'utf8').digest().readBigUInt64BE(0) | 1n;
  // Keys are user names, departments, ages: few. The bound only guards memory against odd logs.
  if (hashes.size > 100_000) hashes.clear();
  hashes.set(text, value);
  return value;
}

/** The digest increments of one commit's rows, per (dim, window), in primary-key order. */
export function digestIncrements(rows: readonly WindowRow[], dims: readonly Dimension[]): WindowDigest[] {
  const byWindow = new Map<string, { dim: Dimension; windowStart: number; digest: bigint; total: number }>();
  for (const row of rows) {
    const dim = dims.find((entry) => entry === row.dim);
    if (dim === undefined) continue;
    const slot = `${dim}|${row.windowStart}`;
    const entry = byWindow.get(slot) ?? { dim, windowStart: row.windowStart, digest: 0n, total: 0 };
    entry.digest = (entry.digest + BigInt(row.count) * keyHash(dim, row.key)) % DIGEST_MODULUS;
    entry.total += row.count;
    byWindow.set(slot, entry);
  }
  return [...byWindow.values()].sort((a, b) =>
    a.dim !== b.dim ? dims.indexOf(a.dim) - dims.indexOf(b.dim) : a.windowStart - b.windowStart,
  );
}

/**
 * The same digest computed by SQL from a version's table (for tables filled without the sink, and to
 * check that the incremental digests equal the formula). `k` is the key column, `count` the count.
 * CONV gives the 64-bit prefix exactly; DECIMAL keeps the sum exact before the modulus.
 */
export function digestSql(keyColumn: string): string {
  const hash = `(CAST(CONV(LEFT(SHA2(\`${keyColumn}\`, 256), 16), 16, 10) AS UNSIGNED) | 1)`;
  return `MOD(SUM(CAST(${hash} AS DECIMAL(20,0)) * count), ${DIGEST_MODULUS.toString()})`;
}
