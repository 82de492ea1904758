import type { Connection, Pool, RowDataPacket } from 'mysql2/promise';
import type { Dimension } from '../model/dimensions.js';
import { jobNames } from './job-names.js';
import { DIGEST_MODULUS, digestSql, type WindowDigest } from './window-digest.js';

/**
 * `kappa_window_digests` (migration 7): per (version, dim, window) the digest of the window's rows.
 * The sink adds a commit's increments in the commit's transaction, so a digest is exactly once too.
 */
export async function addDigests(
  connection: Connection,
  version: string,
  increments: readonly WindowDigest[],
): Promise<void> {
  for (let at = 0; at < increments.length; at += 500) {
    const slice = increments.slice(at, at + 500);
    // DECIMAL arithmetic: the sum of two digests exceeds 2^64 before the modulus, BIGINT would overflow.
    await connection.query(
      `INSERT INTO kappa_window_digests (version, dim, window_start_ms, digest, total) VALUES ?
       ON DUPLICATE KEY UPDATE digest = MOD(digest + VALUES(digest), ${DIGEST_MODULUS.toString()}), total = total + VALUES(total)`,
      [slice.map((entry) => [version, entry.dim, entry.windowStart, entry.digest.toString(), entry.total])],
    );
  }
}

/**
 * Recomputes a version's digests of one dimension from its table (tables filled without the sink,
 * e.g. by the bench; versions whose rows predate migration 7).
 */
export async function rebuildDigests(connection: Connection, version: string, dim: Dimension): Promise<void> {
  const names = jobNames(version);
  await connection.query('DELETE FROM kappa_window_digests WHERE version = ? AND dim = ?', [version, dim]);
  await connection.query(
    `INSERT INTO kappa_window_digests (version, dim, window_start_ms, digest, total)
     SELECT ?, ?, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', window_start) DIV 1000,
            ${digestSql(names.column(dim))}, SUM(count)
     FROM \`${names.table(dim)}\` GROUP BY window_start`,
    [version, dim],
  );
}

/** A version's digests of one dimension, by window start (ms). */
export async function readDigests(
  connection: Connection | Pool,
  version: string,
  dim: Dimension,
): Promise<Map<number, { readonly digest: bigint; readonly total: number }>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT window_start_ms, CAST(digest AS CHAR) AS digest, total FROM kappa_window_digests WHERE version = ? AND dim = ?',
    [version, dim],
  );
  return new Map(
    rows.map((row) => [
      Number(row['window_start_ms']),
      { digest: BigInt(String(row['digest'])), total: Number(row['total']) },
    ]),
  );
}
