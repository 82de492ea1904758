import type { AggregateSink, CommitRequest, PartitionProgress, PreparedVersion, VersionSpec } from './sink.js';
import { settingsMismatch } from '../model/version-settings.js';
import type { PartitionSnapshot } from './window-engine.js';
import { KappaError } from '../shared/errors.js';
import { runningTzVersion } from '../shared/tz-database.js';

interface StoredProgress {
  nextOffset: bigint;
  seq: number;
  badRecords: number;
  schemaCounts?: ReadonlyMap<number | null, number>;
  lateEvents: number;
  lateWindows: number;
  snapshot: PartitionSnapshot;
}

/**
 * A sink in memory with the MySQL sink's contract (offset and commit-number guard, rows added to
 * totals): what the broker-free driver tests commit into. `failNext` injects a failed commit.
 */
export class MemorySink implements AggregateSink {
  readonly totals = new Map<string, number>();
  readonly progress = new Map<number, StoredProgress>();
  readonly commits: CommitRequest[] = [];
  private spec: VersionSpec | undefined;
  failNext = 0;

  /** The tz release of the process that first prepared the version (this one). */
  private readonly tzVersion = runningTzVersion();

  prepare(spec: VersionSpec): Promise<PreparedVersion> {
    if (this.spec !== undefined) {
      const { window, dims, timeZone, stagesTopic, sink, maxFutureMs } = this.spec.settings;
      const problem = settingsMismatch(
        spec.version,
        { window, dims: dims.join(','), timeZone, stagesTopic, sink, maxFutureMs },
        spec.settings,
      );
      if (problem !== undefined) return Promise.reject(new KappaError('KAPPA_VERSION_SETTINGS_MISMATCH', problem));
    } else this.spec = spec;
    return Promise.resolve({ tzVersion: this.tzVersion });
  }

  load(partition: number): Promise<PartitionProgress> {
    const stored = this.progress.get(partition);
    if (stored === undefined) return Promise.resolve({ nextOffset: 0n, seq: 0, badRecords: 0 });
    const { nextOffset, seq, badRecords, snapshot, schemaCounts } = stored;
    // Through JSON, as the MySQL column does.
    return Promise.resolve({
      nextOffset,
      seq,
      badRecords,
      ...(schemaCounts === undefined ? {} : { schemaCounts: new Map(schemaCounts) }),
      snapshot: JSON.parse(JSON.stringify(snapshot)) as PartitionSnapshot,
    });
  }

  commit(request: CommitRequest): Promise<boolean> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      return Promise.reject(new Error('injected commit failure'));
    }
    const stored = this.progress.get(request.partition) ?? {
      nextOffset: 0n,
      seq: 0,
      badRecords: 0,
      lateEvents: 0,
      lateWindows: 0,
      snapshot: { maxEventTime: null, lateEvents: 0, open: [] },
    };
    if (stored.nextOffset !== request.expected.nextOffset || stored.seq !== request.expected.seq)
      return Promise.resolve(false);
    for (const row of request.rows) {
      const key = `${row.windowStart}|${row.dim}|${row.key}`;
      this.totals.set(key, (this.totals.get(key) ?? 0) + row.count);
    }
    this.progress.set(request.partition, {
      nextOffset: request.nextOffset,
      seq: stored.seq + 1,
      badRecords: request.badRecords,
      ...(request.schemaCounts === undefined ? {} : { schemaCounts: new Map(request.schemaCounts) }),
      lateEvents: request.lateEvents,
      lateWindows: request.lateWindows,
      snapshot: request.snapshot,
    });
    this.commits.push(request);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
