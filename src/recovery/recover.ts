import { setTimeout as sleep } from 'node:timers/promises';
import { runAggregate, type AggregateMetrics, type AggregateOptions } from '../aggregates/run.js';
import { ensurePipelineTopics } from '../kafka/ensure-topics.js';
import { committedOffsets, endOffsets } from '../kafka/offsets.js';
import { enrichGroup } from '../kafka/topics.js';
import { KappaError } from '../shared/errors.js';
import { Progress } from '../shared/progress.js';
import { newEnrichMetrics, runEnrich, type BadRecordPolicy } from '../stages/enrich/run.js';
import type { EnrichmentTables } from '../stages/enrich/rules.js';
import { Catalog } from './catalog.js';
import { describeCatchUp, lagOf, type LagReport } from './catch-up.js';

/** The aggregator's options (MySQL sink, no side paths), plus how to recover. */
export interface RecoverOptions extends Omit<
  AggregateOptions,
  'mongodbUrl' | 'metrics' | 'publishLate' | 'idleCloseMs'
> {
  /** Stop (and resolve) once the version has no lag. */
  readonly untilCaughtUp: boolean;
  /** Full-chain replay: re-enrich this raw topic into `stagesTopic` first. */
  readonly fullChain?: {
    readonly eventsTopic: string;
    readonly tables: EnrichmentTables;
    readonly badRecords: BadRecordPolicy;
  };
  /** How often the lag is checked and the progress line redrawn. */
  readonly checkEveryMs?: number;
}

export interface RecoverResult {
  readonly caughtUp: boolean;
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
  const inner = new AbortController();
  const stop = () => inner.abort();
  options.signal.addEventListener('abort', stop, { once: true });
  const metrics: AggregateMetrics = { in: 0, late: 0, rows: 0, bad: 0 };
  const progress = new Progress(logger, `recover ${version}`);
  const running: Promise<unknown>[] = [];
  let lag: LagReport = lagOf(new Map(), new Map());
  let caughtUp = false;
  try {
    if ((await catalog.serving()) === version) {
      throw new KappaError(
        'KAPPA_RECOVER_REFUSED',
        `${version} is the serving version: recovery always writes a new version (never the live tables); pick another name, e.g. v${Number(version.slice(1)) + 1}`,
      );
    }
    await admin.connect();
    if (options.fullChain !== undefined) {
      // The new stages topic exists before either stage looks for it.
      await ensurePipelineTopics(
        admin,
        {
          topicEvents: options.fullChain.eventsTopic,
          topicStages: options.settings.stagesTopic,
          topicPartitions: options.topicPartitions,
          topicReplicationFactor: options.topicReplicationFactor,
        },
        logger,
      );
    }
    const failed = new Promise<never>((_, reject) => {
      const watch = (work: Promise<unknown>) =>
        work.catch((error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
      if (options.fullChain !== undefined) {
        const { eventsTopic, tables, badRecords } = options.fullChain;
        running.push(
          watch(
            runEnrich({
              kafka,
              registryUrl: options.registryUrl,
              topics: {
                topicEvents: eventsTopic,
                topicStages: options.settings.stagesTopic,
                topicPartitions: options.topicPartitions,
                topicReplicationFactor: options.topicReplicationFactor,
              },
              schemasDir: options.schemasDir,
              tables,
              badRecords,
              logger: logger.child({ stage: 'enrich' }),
              signal: inner.signal,
              metrics: newEnrichMetrics(),
            }),
          ),
        );
      }
      running.push(
        watch(
          runAggregate({
            kafka,
            registryUrl: options.registryUrl,
            mysqlUrl: options.mysqlUrl,
            topicPartitions: options.topicPartitions,
            topicReplicationFactor: options.topicReplicationFactor,
            schemasDir: options.schemasDir,
            version,
            settings: options.settings,
            ...(options.limits === undefined ? {} : { limits: options.limits }),
            ...(options.onSink === undefined ? {} : { onSink: options.onSink }),
            logger: logger.child({ stage: 'aggregate' }),
            signal: inner.signal,
            metrics,
          }),
        ),
      );
    });
    failed.catch(() => undefined);

    const startedAt = Date.now();
    while (!inner.signal.aborted) {
      await Promise.race([sleep(options.checkEveryMs ?? 500), failed]);
      const enrichBehind =
        options.fullChain === undefined
          ? 0n
          : lagOf(
              await endOffsets(admin, options.fullChain.eventsTopic),
              await committedOffsets(admin, enrichGroup(options.settings.stagesTopic), options.fullChain.eventsTopic),
            ).lag;
      const committed = await catalog
        .offsets(version, options.settings.stagesTopic)
        .catch(() => new Map<number, bigint>());
      lag = lagOf(await endOffsets(admin, options.settings.stagesTopic), committed);
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
      // Caught up: the enrichment (full chain) and the version have consumed everything there is.
      if (enrichBehind === 0n && lag.lag === 0n && lag.total > 0n && committed.size > 0) {
        if (!caughtUp) {
          caughtUp = true;
          await catalog.setState(version, 'caught-up', 'catching-up');
          progress.done();
          logger.info({ version, records: Number(lag.total) }, 'caught up: no lag');
        }
        if (options.untilCaughtUp) break;
      }
    }
    return { caughtUp, lag, metrics };
  } finally {
    progress.done();
    inner.abort();
    await Promise.allSettled(running);
    options.signal.removeEventListener('abort', stop);
    await admin.disconnect().catch(() => undefined);
    await catalog.close().catch(() => undefined);
  }
}
