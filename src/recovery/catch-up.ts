/**
 * Pure decisions of recovery and cutover: how far a version is behind the log, and whether it may
 * replace the serving version (SPEC §1.4). No I/O: callers pass offsets read from Kafka and MySQL.
 */

/** Next offset to process (or log end offset) by partition. */
export type PartitionOffsets = ReadonlyMap<number, bigint>;

export interface PartitionLag {
  readonly partition: number;
  /** The end offset a read_committed consumer can reach (last stable offset: see kafka/offsets.ts). */
  readonly end: bigint;
  /** The version's next offset in the partition (0 before its first commit). */
  readonly next: bigint;
  readonly lag: bigint;
}

export interface LagReport {
  /** Records from offset 0 to the end, over all partitions. */
  readonly total: bigint;
  /** Records behind the version's progress, over all partitions. */
  readonly done: bigint;
  readonly lag: bigint;
  readonly partitions: readonly PartitionLag[];
}

export function lagOf(ends: PartitionOffsets, progress: PartitionOffsets): LagReport {
  const partitions = [...ends.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, end]) => {
      const next = progress.get(partition) ?? 0n;
      return { partition, end, next, lag: end > next ? end - next : 0n };
    });
  const sum = (pick: (entry: PartitionLag) => bigint) => partitions.reduce((total, entry) => total + pick(entry), 0n);
  return {
    total: sum((entry) => entry.end),
    done: sum((entry) => (entry.next < entry.end ? entry.next : entry.end)),
    lag: sum((entry) => entry.lag),
    partitions,
  };
}

/**
 * `recover --until-caught-up` ends here (SPEC §1.4): every partition consumed at least to the end
 * offset observed when the replay started — a fixed target, so it ends on a live log too.
 */
export function backlogDone(targets: PartitionOffsets, progress: PartitionOffsets): boolean {
  // A topic always has partitions: targets without any were never read, and no backlog is done.
  return targets.size > 0 && lagOf(targets, progress).lag === 0n;
}

/**
 * Between lag checks, what the version's own commits (reported in-process by its aggregator) say:
 * whether one may have caught it up with the end offsets the last check read. Only then is a lag
 * check worth its round trips to Kafka and MySQL, which decide: a check at every commit of a
 * replay cost ~8 % of a 1,000,000-event recovery's time (bench/README.md).
 */
export class CommitWatch {
  private readonly progress = new Map<number, bigint>();
  private ends: PartitionOffsets = new Map();

  /** The end offsets a lag check read. */
  seen(ends: PartitionOffsets): void {
    this.ends = ends;
  }

  /** A commit of the version up to `next` in `partition`: true when it may be caught up now. */
  committed(partition: number, next: bigint): boolean {
    this.progress.set(partition, next);
    return backlogDone(this.ends, this.progress);
  }
}

export interface VersionPosition {
  readonly version: string;
  readonly topic: string;
  readonly progress: PartitionOffsets;
}

/**
 * Why `candidate` may not serve yet, or undefined when it may. With a serving version on the same
 * topic, the candidate must have consumed at least as far in every partition; otherwise (first
 * cutover, or a candidate replayed from another stages topic) it must have no lag on its own topic.
 */
export function catchUpProblem(
  candidate: VersionPosition,
  serving: VersionPosition | undefined,
  candidateEnds: PartitionOffsets,
): string | undefined {
  if (serving !== undefined && serving.topic === candidate.topic) {
    for (const [partition, next] of [...serving.progress.entries()].sort(([a], [b]) => a - b)) {
      const mine = candidate.progress.get(partition);
      if (mine === undefined || mine < next) {
        return `${candidate.version} has not caught up with ${serving.version}: partition ${partition} of ${candidate.topic} is at offset ${mine ?? 0n}, ${serving.version} at ${next}`;
      }
    }
    return undefined;
  }
  if (candidateEnds.size === 0)
    return `${candidate.version} has not caught up: ${candidate.topic} has no partitions to read its end offsets from`;
  const report = lagOf(candidateEnds, candidate.progress);
  const behind = report.partitions.find((entry) => entry.lag > 0n);
  if (behind === undefined) return undefined;
  return `${candidate.version} has not caught up: ${report.lag} records of ${candidate.topic} still to process (partition ${behind.partition} at offset ${behind.next} of ${behind.end})`;
}

export interface RowDifference {
  readonly key: string;
  readonly from: number;
  readonly to: number;
}

export interface TableDiff {
  /** Rows present on both sides with different counts (windows closed in both versions). */
  readonly differing: readonly RowDifference[];
  readonly onlyFrom: readonly string[];
  readonly onlyTo: readonly string[];
  /** Totals over the windows closed in both versions. */
  readonly totalFrom: number;
  readonly totalTo: number;
  /** Windows with rows on either side that `from` (resp. `to`) has not closed yet: not compared. */
  readonly notClosedFrom: number;
  readonly notClosedTo: number;
}

/** Which windows a version has closed in every partition: those ending at or before `closedThrough`. */
export interface ClosedWindows {
  readonly sizeMs: number;
  readonly closedThrough: number;
}

/**
 * Each version's horizon for a comparison: the lowest watermark over the partitions either version
 * has seen events in. A partition only one of them has reached (the replay is still behind there)
 * closes nothing for the other: its windows may still get rows.
 */
export function closedHorizons(
  from: ReadonlyMap<number, number | null>,
  to: ReadonlyMap<number, number | null>,
): [number, number] {
  const partitions = new Set([...from.keys(), ...to.keys()]);
  let [a, b] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (const partition of partitions) {
    const [x, y] = [from.get(partition) ?? null, to.get(partition) ?? null];
    if (x === null && y === null) continue;
    a = Math.min(a, x ?? Number.NEGATIVE_INFINITY);
    b = Math.min(b, y ?? Number.NEGATIVE_INFINITY);
  }
  return [a, b];
}

const windowStartOf = (row: string) => Number(row.slice(0, row.indexOf('|')));

/**
 * Compares two tables of the same dimension, each as `${windowStart}|${key}` → count, like with
 * like (SPEC §1.4): only windows closed in both versions are compared; a window still open in one
 * (the longer watermark closes windows later) is counted apart, never as rows only in the other.
 * Without `closed`, every window counts as closed.
 */
export function diffTables(
  from: ReadonlyMap<string, number>,
  to: ReadonlyMap<string, number>,
  closed?: { readonly from: ClosedWindows; readonly to: ClosedWindows },
): TableDiff {
  const isClosed = (window: ClosedWindows | undefined, start: number) =>
    window === undefined || start + window.sizeMs <= window.closedThrough;
  const openFrom = new Set<number>();
  const openTo = new Set<number>();
  const compared = (row: string) => {
    const start = windowStartOf(row);
    const [inFrom, inTo] = [isClosed(closed?.from, start), isClosed(closed?.to, start)];
    if (!inFrom) openFrom.add(start);
    if (!inTo) openTo.add(start);
    return inFrom && inTo;
  };
  const differing: RowDifference[] = [];
  const onlyFrom: string[] = [];
  const onlyTo: string[] = [];
  let totalFrom = 0;
  let totalTo = 0;
  for (const [key, count] of from) {
    if (!compared(key)) continue;
    totalFrom += count;
    const other = to.get(key);
    if (other === undefined) onlyFrom.push(key);
    else if (other !== count) differing.push({ key, from: count, to: other });
  }
  for (const [key, count] of to) {
    if (!compared(key)) continue;
    totalTo += count;
    if (!from.has(key)) onlyTo.push(key);
  }
  return {
    differing: differing.sort((a, b) => a.key.localeCompare(b.key)),
    onlyFrom: onlyFrom.sort(),
    onlyTo: onlyTo.sort(),
    totalFrom,
    totalTo,
    notClosedFrom: openFrom.size,
    notClosedTo: openTo.size,
  };
}

/** `12,345 / 100,000 records (12.3 %) · 48,210 events/s · ETA 2 s` */
export function describeCatchUp(report: LagReport, eventsPerSecond: number): string {
  const done = Number(report.done);
  const total = Number(report.total);
  const share = total === 0 ? 100 : (done / total) * 100;
  const eta = eventsPerSecond > 0 ? Math.ceil(Number(report.lag) / eventsPerSecond) : undefined;
  const format = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return `${format.format(done)} / ${format.format(total)} records (${share.toFixed(1)} %) · ${format.format(eventsPerSecond)} events/s · ETA ${eta === undefined ? '?' : `${eta} s`}`;
}
