/**
 * Pure decisions of recovery and cutover: how far a version is behind the log, and whether it may
 * replace the serving version (SPEC §1.4). No I/O: callers pass offsets read from Kafka and MySQL.
 */

/** Next offset to process (or log end offset) by partition. */
export type PartitionOffsets = ReadonlyMap<number, bigint>;

export interface PartitionLag {
  readonly partition: number;
  /** The log end offset (high watermark). */
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
  /** Rows present on both sides with different counts. */
  readonly differing: readonly RowDifference[];
  readonly onlyFrom: readonly string[];
  readonly onlyTo: readonly string[];
  readonly totalFrom: number;
  readonly totalTo: number;
}

/** Compares two tables of the same dimension, each as `${windowStart}|${key}` → count. */
export function diffTables(from: ReadonlyMap<string, number>, to: ReadonlyMap<string, number>): TableDiff {
  const differing: RowDifference[] = [];
  const onlyFrom: string[] = [];
  const onlyTo: string[] = [];
  for (const [key, count] of from) {
    const other = to.get(key);
    if (other === undefined) onlyFrom.push(key);
    else if (other !== count) differing.push({ key, from: count, to: other });
  }
  for (const key of to.keys()) if (!from.has(key)) onlyTo.push(key);
  const total = (table: ReadonlyMap<string, number>) => [...table.values()].reduce((sum, count) => sum + count, 0);
  return {
    differing: differing.sort((a, b) => a.key.localeCompare(b.key)),
    onlyFrom: onlyFrom.sort(),
    onlyTo: onlyTo.sort(),
    totalFrom: total(from),
    totalTo: total(to),
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
