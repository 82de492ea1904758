import type { WindowSettings, PartitionSnapshot, WindowRow } from './window-engine.js';
import type { Dimension } from './job-names.js';

export const SINKS = ['mysql', 'mongodb'] as const;
export type SinkKind = (typeof SINKS)[number];

/** A version as registered in its store: its settings never change. */
export interface VersionSpec {
  readonly version: string;
  readonly settings: WindowSettings;
  readonly dims: readonly Dimension[];
}

export interface PartitionProgress {
  /** The next offset of the partition to process; null before its first commit. */
  readonly nextOffset: bigint | null;
  readonly snapshot?: PartitionSnapshot;
}

export interface CommitRequest {
  readonly partition: number;
  /** The progress this commit continues from: if another instance moved it, nothing is written. */
  readonly expected: bigint | null;
  readonly nextOffset: bigint;
  readonly rows: readonly WindowRow[];
  readonly snapshot: PartitionSnapshot;
  readonly lateEvents: number;
  readonly watermark: number | null;
  /** The rows were closed by `--idle-close` (processing time), not by the watermark: mark them. */
  readonly idleClosed?: boolean;
}

/**
 * Where a job version's rows and its per-partition progress live. Whatever the store, a commit is
 * all-or-nothing in effect: after a crash at any instant, `load` returns progress whose rows are
 * in the tables exactly once. Rows add to totals: each partition contributes its own counts of a
 * window once, when its watermark closes it (or `--idle-close` does).
 */
export interface AggregateSink {
  /** Creates the version's tables or collections and registers it; refuses changed settings. */
  prepare(spec: VersionSpec): Promise<void>;
  load(partition: number): Promise<PartitionProgress>;
  /** Writes rows and progress; false (nothing written) when another instance moved the progress. */
  commit(request: CommitRequest): Promise<boolean>;
  close(): Promise<void>;
}

export function settingsMismatch(version: string, stored: WindowSettings, wanted: WindowSettings): string | undefined {
  if (stored.sizeMs === wanted.sizeMs && stored.slideMs === wanted.slideMs && stored.delayMs === wanted.delayMs)
    return undefined;
  return `job version ${version} exists with window ${stored.sizeMs} ms, slide ${stored.slideMs} ms, watermark ${stored.delayMs} ms; a version's settings never change — use a new version`;
}
