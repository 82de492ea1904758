import { countIncident } from '../shared/incidents.js';
import type { Logger } from '../shared/logger.js';
import type { AggregationDriver } from './aggregation-driver.js';

/**
 * `--idle-close`: every `everyMs`, closes the windows of partitions idle for `idleMs` (processing
 * time; the rows are marked idle_closed). A tick's promise has nobody to report to — a rejection
 * left unhandled would end the process (Node's default) — so a failed tick is counted and logged,
 * and the next tick tries again. Returns the function that stops the ticks.
 */
export function startIdleClose(
  driver: Pick<AggregationDriver, 'idleClose'>,
  idleMs: number,
  logger: Logger,
  everyMs = 1_000,
): () => void {
  const tick = async () => {
    try {
      const rows = await driver.idleClose(idleMs);
      if (rows > 0) logger.info({ rows, idleMs }, 'closed the windows of idle partitions (rows marked idle_closed)');
    } catch (error) {
      countIncident('swallowed', 'idle-close-tick');
      logger.warn({ err: error, idleMs }, 'idle close failed; the next tick tries again');
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  return () => clearInterval(timer);
}
