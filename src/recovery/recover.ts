import type { Admin } from 'kafkajs';
import type { AggregateMetrics, AggregateOptions } from '../aggregates/run.js';
import { ensurePipelineTopics } from '../kafka/ensure-topics.js';
import { committedOffsets, endOffsets } from '../kafka/offsets.js';
import { enrichGroup, stagesPartitioningProblem } from '../kafka/topics.js';
import { KappaError } from '../shared/errors.js';
import { isRetriable } from '../shared/retry.js';
import { Progress } from '../shared/progress.js';
import { WakeUp } from '../shared/wake-up.js';
import type { BadRecordPolicy } from '../stages/enrich/run.js';
import type { EnrichmentTables } from '../stages/enrich/rules.js';
import type { TransactionPolicy } from '../stages/enrich/transaction-policy.js';
import { StageSupervisor } from '../stages/runtime/supervisor.js';
import { Catalog } from './catalog.js';
import { backlogDone, CommitWatch, describeCatchUp, lagOf, type LagReport } from './catch-up.js';
import { cutoverProblem } from './operations.js';
import { startReplayStages } from './replay-stages.js';
import { preflightRefusal, preflightSchemas } from './schema-preflight.js';

/** The aggregator's options (MySQL sink, no side paths), plus how to recover. */
export interface RecoverOptions extends Omit<
  AggregateOptions,
  'mongodbUrl' | 'metrics' | 'publishLate' | 'idleCloseMs' | 'afterRowsCommitted'
> {
  /**
   * Stop (and resolve) once every partition is consumed to the end offsets observed when the
   * replay started (for a full chain: the raw topic's, then the stages topic's once enriched).
   */
  readonly untilCaughtUp: boolean;
  /**
   * Cut readers over to this version the moment it has caught up with the serving one (checked at
   * every progress tick, while the serving version keeps consuming live data), then keep running.
   */
  readonly cutover?: boolean;
  /**
   * Keep the version live beside the serving one once caught up, marked `shadow` (compared by the
   * live diff, never served) until a cutover or until stopped.
   */
  readonly shadow?: boolean;
  /** Full-chain replay: re-enrich this raw topic into `stagesTopic` first. */
  readonly fullChain?: {
    readonly eventsTopic: string;
    readonly tables: EnrichmentTables;
    readonly badRecords: BadRecordPolicy;
    readonly transactions: TransactionPolicy;
  };
  /**
   * Replay even when the log holds records of schema ids the registry does not know (they are
   * dead-lettered); without it `recover` refuses to start, naming the ids (issue 26).
   */
  readonly allowDeadLetters?: boolean;
  /** How often the lag is checked and the progress line redrawn. */
  readonly checkEveryMs?: number;
}

export interface RecoverResult {
  /** With `cutover`: the version that served before this one took over (null: nothing served). */
  readonly cutOverFrom?: string | null;
  /** No lag at the last check. */
  readonly caughtUp: boolean;
  /** Consumed to the end offsets observed at the start (always true when `caughtUp`). */
  readonly backlogDone: boolean;
  readonly lag: LagReport;
  readonly metrics: AggregateMetrics;
}

/**
 * `kappa recover --to vN` (SPEC §1.4): the aggregator's own code as a new job version — new
 * consumer group, from offset 0, its own tables — with a progress line while it catches up. With
 * `fullChain` the raw topic is enriched again into a new stages topic (the enrichment stage's code,
 * its group and transactional ids derived from that topic) and the version aggregates that.
 */
export async function runRecover(options: RecoverOptions): Promise<RecoverResult> {
  const { kafka, logger, version } = options;
  const catalog = await Catalog.open(options.mysqlUrl);
  const admin = kafka.admin();
  // Ctrl-C stops the stages; the command returns once they have stopped.
  const stages = new StageSupervisor({ logger, signal: options.signal });
  const metrics: AggregateMetrics = { in: 0, late: 0, rows: 0, bad: 0 };
  const progress = new Progress(logger, `recover ${version}`);
  let lag: LagReport = lagOf(new Map(), new Map());
  let caughtUp = false;
  let backlog = false;
  let cutOverFrom: string | null | undefined;
  try {
    await refuseToStart(catalog, options, stages.signal);
    await admin.connect();
    await prepareStagesTopic(admin, options);
    // What the versions API and the dashboard show while it catches up (issue 26): the records to
    // replay and the start, beside the figures of a `recover --plan` made for the same settings.
    const source = options.fullChain?.eventsTopic ?? options.settings.stagesTopic;
    const startEnds = await endOffsets(admin, source);
    await catalog.recordReplayStart(
      { version, stagesTopic: options.settings.stagesTopic, sourceTopic: source, settings: options.settings.window },
      startEnds,
    );
    // The backlog: the end offsets when the replay starts. A full chain first waits for the
    // enrichment to pass the raw topic's, then takes the new stages topic's as its target.
    const eventsTargets = options.fullChain === undefined ? undefined : startEnds;
    let targets = options.fullChain === undefined ? startEnds : undefined;
    // The commit that catches the version up ends the wait for the next tick (which still redraws
    // the progress while nothing commits); the others do not: they cannot have caught up with the
    // end offsets last read, and a check costs a read of Kafka's and MySQL's offsets.
    const commits = new WakeUp();
    const watch = new CommitWatch();
    if (targets !== undefined) watch.seen(targets);
    startReplayStages(stages, options, metrics, (partition, next) => {
      if (watch.committed(partition, next)) commits.wake();
    });

    const startedAt = Date.now();
    /** Where the version (and for a full chain, the enrichment) stands against the log now. */
    const observe = async () => {
      const enriched =
        options.fullChain === undefined
          ? undefined
          : await committedOffsets(admin, enrichGroup(options.settings.stagesTopic), options.fullChain.eventsTopic);
      const enrichBehind =
        options.fullChain === undefined || enriched === undefined
          ? 0n
          : lagOf(await endOffsets(admin, options.fullChain.eventsTopic), enriched).lag;
      if (targets === undefined && eventsTargets !== undefined && enriched !== undefined)
        if (backlogDone(eventsTargets, enriched)) targets = await endOffsets(admin, options.settings.stagesTopic);
      const committed = await catalog
        .offsets(version, options.settings.stagesTopic)
        .catch(() => new Map<number, bigint>());
      const ends = await endOffsets(admin, options.settings.stagesTopic);
      watch.seen(ends);
      return { committed, enrichBehind, lag: lagOf(ends, committed) };
    };
    while (!stages.signal.aborted) {
      await Promise.race([commits.wait(options.checkEveryMs ?? 500), stages.failed]);
      // A read that fails (a broker restarting) skips this check: the stages wait the outage out too.
      const observed = await observe().catch((error: unknown) => {
        if (!isRetriable(error)) throw error;
        logger.warn({ err: error, version }, 'could not read the offsets to check the lag; checking again');
        return undefined;
      });
      if (observed === undefined) continue;
      const { committed, enrichBehind } = observed;
      lag = observed.lag;
      const rate = metrics.in / Math.max(0.001, (Date.now() - startedAt) / 1_000);
      const line = `${describeCatchUp(lag, rate)}${options.fullChain === undefined ? '' : ` · enrichment ${enrichBehind} behind`}`;
      progress.update(
        {
          version,
          done: Number(lag.done),
          total: Number(lag.total),
          lag: Number(lag.lag),
          eventsPerSecond: Math.round(rate),
        },
        line,
      );
      // Caught up: the enrichment (full chain) and the version have consumed everything there is now.
      const noLag = enrichBehind === 0n && lag.lag === 0n && lag.total > 0n && committed.size > 0;
      if (noLag && !caughtUp) {
        caughtUp = true;
        progress.done();
        await catalog.setState(version, 'caught-up', 'catching-up');
        await catalog.setState(version, 'caught-up', 'backlog-done');
        logger.info({ version, records: Number(lag.total) }, 'caught up: no lag');
        if (options.shadow === true) {
          for (const from of ['caught-up', 'backlog-done', 'catching-up'] as const)
            await catalog.setState(version, 'shadow', from);
          logger.info({ version }, 'shadow: live beside the serving version, not served');
        }
      }
      if (!backlog && targets !== undefined && backlogDone(targets, committed)) {
        backlog = true;
        progress.done();
        if (!caughtUp) await catalog.setState(version, 'backlog-done', 'catching-up');
        logger.info(
          { version, targets: Object.fromEntries([...targets].map(([p, o]) => [p, o.toString()])) },
          'backlog done: consumed to the end offsets seen at the start',
        );
      }
      if (options.cutover === true && cutOverFrom === undefined) {
        const { candidate, current, problem } = await cutoverProblem(catalog, admin, version);
        if (problem === undefined) {
          // Refusals here (a dimension missing, another switch meanwhile) are final: they end the command.
          if (current !== version) await catalog.switchTo(candidate, current);
          cutOverFrom = current ?? null;
          progress.done();
          logger.info({ version, from: current }, 'cut over: readers now see this version');
        }
      }
      const waitForCutover = options.cutover === true && cutOverFrom === undefined;
      if (options.untilCaughtUp && (caughtUp || backlog) && !waitForCutover) break;
    }
    return {
      caughtUp,
      backlogDone: backlog || caughtUp,
      lag,
      metrics,
      ...(cutOverFrom === undefined ? {} : { cutOverFrom }),
    };
  } finally {
    progress.done();
    await stages.stop();
    await admin.disconnect().catch(() => undefined);
    await catalog.close().catch(() => undefined);
  }
}

/** Recovery never writes the serving version's tables, nor replays records it cannot decode unless told to. */
async function refuseToStart(catalog: Catalog, options: RecoverOptions, signal: AbortSignal): Promise<void> {
  const { version } = options;
  if ((await catalog.serving()) === version) {
    throw new KappaError(
      'KAPPA_RECOVER_REFUSED',
      `${version} is the serving version: recovery always writes a new version (never the live tables); pick another name, e.g. v${Number(version.slice(1)) + 1}`,
    );
  }
  if (options.allowDeadLetters !== true) {
    const [topic, subject] =
      options.fullChain === undefined
        ? [options.settings.stagesTopic, 'events_stages' as const]
        : [options.fullChain.eventsTopic, 'events' as const];
    // What versions already read of the stages topic need not be read again (a full chain reads the
    // raw events topic, which no version's progress counts).
    const known = options.fullChain === undefined ? await catalog.schemaCounts(topic) : undefined;
    const { reports } = await preflightSchemas({ ...options, signal }, topic, subject, known);
    const refusal = preflightRefusal(topic, reports);
    if (refusal !== undefined) throw refusal;
  }
}

/** A full chain: the new stages topic exists, partitioned like the raw one, before either stage looks for it. */
async function prepareStagesTopic(admin: Admin, options: RecoverOptions): Promise<void> {
  const { fullChain } = options;
  if (fullChain === undefined) return;
  const topics = await ensurePipelineTopics(
    admin,
    {
      topicEvents: fullChain.eventsTopic,
      topicStages: options.settings.stagesTopic,
      topicPartitions: options.topicPartitions,
      topicReplicationFactor: options.topicReplicationFactor,
    },
    options.logger,
  );
  const problem = stagesPartitioningProblem(
    { events: fullChain.eventsTopic, stages: options.settings.stagesTopic },
    topics.eventsPartitions,
    topics.stagesPartitions,
  );
  if (problem !== undefined) throw new KappaError('KAPPA_STAGES_PARTITIONS', problem);
}
