import type { Dimension } from '../aggregates/job-names.js';
import type { VersionRecord } from './catalog.js';
import { closedHorizons, type ClosedWindows } from './catch-up.js';
import { compareDigests, type DigestComparison } from './digest-compare.js';
import type { VersionSource } from './version-source.js';

/** The windows each of two versions has closed, for a comparison of like with like (SPEC §1.4). */
export async function closedInBoth(
  catalog: Pick<VersionSource, 'progress'>,
  a: VersionRecord,
  b: VersionRecord,
): Promise<{ readonly from: ClosedWindows; readonly to: ClosedWindows }> {
  const watermarks = async (record: VersionRecord) =>
    new Map((await catalog.progress(record.version, record.topic)).map((row) => [row.partition, row.watermark]));
  const [horizonA, horizonB] = closedHorizons(await watermarks(a), await watermarks(b));
  return {
    from: { sizeMs: a.settings.sizeMs, closedThrough: horizonA },
    to: { sizeMs: b.settings.sizeMs, closedThrough: horizonB },
  };
}

export interface VersionVerification {
  readonly from: string;
  readonly to: string;
  /** Per dimension both versions have. */
  readonly tables: Readonly<Partial<Record<Dimension, DigestComparison>>>;
  /** Windows compared, over all dimensions. */
  readonly windows: number;
  readonly identical: boolean;
}

/**
 * `kappa verify vA vB`: the versions' window digests compared over the windows closed in both — one
 * row per window and dimension read, not every row (`diff` then shows the rows of a differing window).
 */
export async function verifyVersions(catalog: VersionSource, from: string, to: string): Promise<VersionVerification> {
  const [a, b] = [await catalog.version(from), await catalog.version(to)];
  const closed = await closedInBoth(catalog, a, b);
  const tables: Partial<Record<Dimension, DigestComparison>> = {};
  for (const dim of a.dims.filter((entry) => b.dims.includes(entry)))
    tables[dim] = compareDigests(await catalog.digests(from, dim), await catalog.digests(to, dim), closed);
  const compared = Object.values(tables);
  return {
    from,
    to,
    tables,
    windows: compared.reduce((sum, table) => sum + table.windows, 0),
    identical: compared.every((table) => table.differing.length === 0),
  };
}
