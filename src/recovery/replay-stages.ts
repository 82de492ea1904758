import { runAggregate, type AggregateMetrics } from '../aggregates/run.js';
import { newEnrichMetrics, runEnrich } from '../stages/enrich/run.js';
import type { StageSupervisor } from '../stages/runtime/supervisor.js';
import type { RecoverOptions } from './recover.js';
import { serveFirstToCommit } from './serving-pointer.js';

/**
 * A fetch's wait at the broker in a run that ends once caught up: its stop waits for the fetch in
 * flight, which, caught up, waits this long for records that will not come (250 ms otherwise,
 * about a twelfth of a 1,000,000-event recovery's wall time here). While catching up every fetch
 * finds records at once; caught up, the run ends at its next check, so the short wait costs a few
 * empty fetches at most: the stop took ~40 ms with 50, ~15 with 10 (bench/README.md).
 */
const UNTIL_CAUGHT_UP_FETCH_WAIT_MS = 10;

/** A full chain's enrichment into the new stages topic, and the version's aggregator. */
export function startReplayStages(
  stages: StageSupervisor,
  options: RecoverOptions,
  metrics: AggregateMetrics,
  onCommitted?: (partition: number, nextOffset: bigint) => void,
): void {
  const { kafka, logger } = options;
  if (options.fullChain !== undefined) {
    const { eventsTopic, tables, badRecords, transactions } = options.fullChain;
    stages.start('enrich', (signal) =>
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
        timeZone: options.settings.timeZone,
        // The version's bound: the aggregator applies it to the same record timestamps again.
        maxFutureMs: options.settings.maxFutureMs,
        transactions,
        logger: logger.child({ stage: 'enrich' }),
        signal,
        metrics: newEnrichMetrics(),
      }),
    );
  }
  stages.start(`aggregate ${options.version}`, (signal) =>
    runAggregate({
      kafka,
      registryUrl: options.registryUrl,
      mysqlUrl: options.mysqlUrl,
      topicPartitions: options.topicPartitions,
      topicReplicationFactor: options.topicReplicationFactor,
      schemasDir: options.schemasDir,
      version: options.version,
      settings: options.settings,
      ...(options.allowDeadLetters === true ? { unknownSchemaIds: 'dead-letter' as const } : {}),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.untilCaughtUp === true ? { fetchWaitMs: UNTIL_CAUGHT_UP_FETCH_WAIT_MS } : {}),
      ...(options.onSink === undefined ? {} : { onSink: options.onSink }),
      afterRowsCommitted: serveFirstToCommit(options.mysqlUrl, {
        version: options.version,
        dims: options.settings.dims,
      }),
      logger: logger.child({ stage: 'aggregate' }),
      signal,
      metrics,
      ...(onCommitted === undefined ? {} : { onCommitted }),
    }),
  );
}
