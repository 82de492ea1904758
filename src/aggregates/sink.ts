import type { VersionSettings } from '../model/version-settings.js';
import type { PartitionSnapshot, WindowRow } from './window-engine.js';

/** A version as registered in its store: its settings never change. */
export interface VersionSpec {
  readonly version: string;
  readonly settings: VersionSettings;
}

/** What a version's store recorded at its creation beyond its settings (which never differ from the spec's). */
export interface PreparedVersion {
  /** The tz database release it was created with (shared/tz-database.ts); null when unknown (created before kappa recorded it). */
  readonly tzVersion: string | null;
}

/** Where a partition stands in its store. A partition without progress starts at offset 0. */
export interface PartitionProgress {
  /** The next offset of the partition to process (0 when nothing was ever committed). */
  readonly nextOffset: bigint;
  /** Commits so far: a commit is accepted only from the holder of the current number. */
  readonly seq: number;
  /** Records that could not be used (undecodable, bad time, key too long), so far. */
  readonly badRecords: number;
  readonly snapshot?: PartitionSnapshot;
  /**
   * Records read from the log's start to `nextOffset`, by writer schema id (schema-counts.ts);
   * undefined when not known (a version committed by a kappa that did not count, or a sink that
   * does not keep them).
   */
  readonly schemaCounts?: ReadonlyMap<number | null, number>;
}

export interface CommitRequest {
  readonly partition: number;
  /** The progress this commit continues from: if another instance moved it, nothing is written. */
  readonly expected: { readonly nextOffset: bigint; readonly seq: number };
  readonly nextOffset: bigint;
  readonly rows: readonly WindowRow[];
  readonly snapshot: PartitionSnapshot;
  readonly lateEvents: number;
  readonly lateWindows: number;
  readonly badRecords: number;
  /** `PartitionProgress.schemaCounts` at `nextOffset`, when known. */
  readonly schemaCounts?: ReadonlyMap<number | null, number>;
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
  /**
   * Creates the version's tables or collections and registers it (with the running tz database
   * release); refuses changed settings.
   */
  prepare(spec: VersionSpec): Promise<PreparedVersion>;
  load(partition: number): Promise<PartitionProgress>;
  /** Writes rows and progress; false (nothing written) when another instance moved the progress. */
  commit(request: CommitRequest): Promise<boolean>;
  close(): Promise<void>;
}
