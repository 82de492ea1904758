import type { Admin, Kafka } from 'kafkajs';
import { createConnection, type Connection } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';

/** One look at the pipeline: end offsets of both topics and how far each stage has come. */
export interface Sample {
  readonly at: number;
  /** High watermark of each events partition. */
  readonly events: readonly number[];
  /** High watermark of each stages partition (commit markers included). */
  readonly stages: readonly number[];
  /** The enrichment group's committed offsets on events, summed. */
  readonly enriched: number;
  /** kappa_progress next_offset summed, by version. */
  readonly aggregated: Readonly<Record<string, number>>;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

export interface PipelineMonitorOptions {
  readonly kafka: () => Kafka;
  readonly mysqlUrl: string;
  readonly eventsTopic: string;
  readonly stagesTopic: string;
  readonly enrichGroup: string;
  readonly versions: readonly string[];
  readonly intervalMs?: number;
}

/**
 * Samples the pipeline once a second in the background, for the figures the fault suite prints
 * (never for assertions). A sample that does not complete within 5 s — a broker is stopped, the
 * cluster has no controller — is skipped, and the admin client is replaced.
 */
export class PipelineMonitor {
  readonly samples: Sample[] = [];
  private admin: Admin | undefined;
  private mysql: Connection | undefined;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly options: PipelineMonitorOptions) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      const sample = this.take();
      const result = await Promise.race([sample, sleep(5_000).then(() => undefined)]);
      if (result === undefined) {
        // Hung or failed: start over with a fresh client next time; the old one ends in the background.
        const stale = this.admin;
        this.admin = undefined;
        void sample.finally(() => stale?.disconnect().catch(() => undefined)).catch(() => undefined);
      } else this.samples.push(result);
      await sleep(Math.max(0, (this.options.intervalMs ?? 1_000) - (Date.now() - started)));
    }
  }

  private async take(): Promise<Sample | undefined> {
    try {
      if (this.admin === undefined) {
        this.admin = this.options.kafka().admin();
        await this.admin.connect();
      }
      const admin = this.admin;
      const [events, stages, committed, aggregated] = await Promise.all([
        admin.fetchTopicOffsets(this.options.eventsTopic),
        admin.fetchTopicOffsets(this.options.stagesTopic),
        admin.fetchOffsets({ groupId: this.options.enrichGroup, topics: [this.options.eventsTopic] }),
        this.progress(),
      ]);
      const byPartition = (offsets: { partition: number; high: string }[]) =>
        [...offsets].sort((a, b) => a.partition - b.partition).map((entry) => Number(entry.high));
      return {
        at: Date.now(),
        events: byPartition(events),
        stages: byPartition(stages),
        enriched: sum(committed[0]?.partitions.map((entry) => Math.max(0, Number(entry.offset))) ?? []),
        aggregated,
      };
    } catch {
      return undefined;
    }
  }

  private async progress(): Promise<Record<string, number>> {
    this.mysql ??= await createConnection({ uri: this.options.mysqlUrl });
    const [rows] = await this.mysql
      .query('SELECT version, COALESCE(SUM(next_offset), 0) AS done FROM kappa_progress GROUP BY version')
      .catch(() => [[]]);
    const done: Record<string, number> = {};
    for (const version of this.options.versions) done[version] = 0;
    for (const row of rows as { version: string; done: string | number }[]) done[row.version] = Number(row.done);
    return done;
  }

  /** Waits until a sample satisfies `condition`. */
  async waitFor(condition: (sample: Sample) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.samples.some(condition)) {
      if (Date.now() > deadline) throw new Error(`the pipeline did not reach the condition in ${timeoutMs} ms`);
      await sleep(500);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.admin?.disconnect().catch(() => undefined);
    await this.mysql?.end().catch(() => undefined);
  }

  /**
   * What a fault did between `from` (when it was injected) and `to` (the next fault, or the end):
   * seconds until every stages partition had grown past its end at the fault, the longest time
   * the stages topic did not grow at all, and the largest lags of enrichment and each version.
   */
  figures(from: number, to: number): FaultFigures {
    const before = [...this.samples].reverse().find((sample) => sample.at <= from);
    const window = this.samples.filter((sample) => sample.at > from && sample.at <= to);
    const progressed =
      before === undefined
        ? undefined
        : window.find((sample) => sample.stages.every((end, partition) => end > (before.stages[partition] ?? 0)));
    let stall = 0;
    let lastGrowth = before?.at ?? from;
    let lastTotal = before === undefined ? 0 : sum(before.stages);
    for (const sample of window) {
      const total = sum(sample.stages);
      if (total > lastTotal) {
        stall = Math.max(stall, sample.at - lastGrowth);
        lastGrowth = sample.at;
        lastTotal = total;
      }
    }
    const lag: Record<string, number> = { enrich: 0 };
    for (const sample of window) {
      lag['enrich'] = Math.max(lag['enrich'] ?? 0, sum(sample.events) - sample.enriched);
      for (const [version, done] of Object.entries(sample.aggregated))
        lag[version] = Math.max(lag[version] ?? 0, sum(sample.stages) - done);
    }
    return {
      ...(progressed === undefined ? {} : { progressAfterMs: progressed.at - from }),
      longestStallMs: stall,
      largestLag: lag,
      samples: window.length,
    };
  }
}

export interface FaultFigures {
  /** Until every stages partition grew past its end at the fault (absent: not within the window). */
  readonly progressAfterMs?: number;
  readonly longestStallMs: number;
  /** Records behind: enrichment (events end − committed), each version (stages end − progress). */
  readonly largestLag: Readonly<Record<string, number>>;
  /** Samples taken in the window (fewer than its seconds: some timed out during the fault). */
  readonly samples: number;
}
