import type { Kafka } from 'kafkajs';
import { LatenessAnalyser } from '../lateness/analyser.js';
import { readStagesLog } from '../lateness/log-reader.js';
import type { Logger } from '../shared/logger.js';
import { consumeAndDecode } from './decode-baseline.js';
import type { Throughput } from './kafkajs-baseline.js';

/** Times from the first event analysed, as the baseline times from its first batch (group join excluded). */
class TimedAnalyser extends LatenessAnalyser {
  firstAt = 0;

  override step(partition: number, time: number): void {
    if (this.firstAt === 0) this.firstAt = performance.now();
    super.step(partition, time);
  }
}

/**
 * `kappa lateness` over a stages topic already filled with `events` records (window 10 s): read
 * read_committed, decoded, times parsed, analysed — next to consuming and decoding the same records
 * with the same decoder, measured just before. Also its memory: the analyser's histograms.
 */
export async function benchLateness(
  kafka: Kafka,
  registryUrl: string,
  topic: string,
  events: number,
  logger: Logger,
): Promise<{ ours: Throughput; baseline: Throughput; heapMiB: number }> {
  const baseline = await consumeAndDecode(kafka, registryUrl, topic, events);
  const analyser = new TimedAnalyser({ sizeMs: 10_000, slideMs: 10_000 });
  await readStagesLog(analyser, {
    kafka,
    registryUrl,
    schemasDir: new URL('../../schemas', import.meta.url).pathname,
    topic,
    timeZone: 'Asia/Seoul',
    logger,
  });
  const seconds = (performance.now() - analyser.firstAt) / 1_000;
  const records = analyser.events;
  const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  return { ours: { records, seconds, recordsPerSec: records / seconds }, baseline, heapMiB };
}
