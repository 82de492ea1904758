import type { ClosedWindows } from './catch-up.js';

/** A window's digest and total as one version recorded it. */
export interface RecordedDigest {
  readonly digest: bigint;
  readonly total: number;
}

export interface DigestDifference {
  readonly windowStart: number;
  /** Undefined: the version has no row in that window. */
  readonly from?: RecordedDigest;
  readonly to?: RecordedDigest;
}

export interface DigestComparison {
  /** Windows closed in both versions with rows in either: the windows compared. */
  readonly windows: number;
  /** In window order. */
  readonly differing: readonly DigestDifference[];
  /** Windows with rows that either version has not closed yet: not compared. */
  readonly notClosed: number;
}

/**
 * Compares two versions' digests of one dimension over the windows closed in both (the same rule as
 * `diff`, catch-up.ts): equal digests mean equal rows (window-digest.ts), so a few numbers per
 * window stand in for every row.
 */
export function compareDigests(
  from: ReadonlyMap<number, RecordedDigest>,
  to: ReadonlyMap<number, RecordedDigest>,
  closed: { readonly from: ClosedWindows; readonly to: ClosedWindows },
): DigestComparison {
  const isClosed = (start: number) =>
    start + closed.from.sizeMs <= closed.from.closedThrough && start + closed.to.sizeMs <= closed.to.closedThrough;
  const starts = [...new Set([...from.keys(), ...to.keys()])].sort((a, b) => a - b);
  const differing: DigestDifference[] = [];
  let [windows, notClosed] = [0, 0];
  for (const windowStart of starts) {
    if (!isClosed(windowStart)) {
      notClosed += 1;
      continue;
    }
    windows += 1;
    const [a, b] = [from.get(windowStart), to.get(windowStart)];
    if (a?.digest === b?.digest && a?.total === b?.total) continue;
    differing.push({ windowStart, ...(a === undefined ? {} : { from: a }), ...(b === undefined ? {} : { to: b }) });
  }
  return { windows, differing, notClosed };
}
