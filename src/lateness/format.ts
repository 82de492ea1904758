import { formatDuration } from '../config/duration.js';
import { formatCount } from '../shared/progress.js';
import type { Distribution, LatenessReport } from './analyser.js';

/** A report with where it was read: what `kappa lateness --json` prints and `GET /api/lateness` answers. */
export interface LatenessDocument extends LatenessReport {
  readonly topic: string;
  /** Next offset per partition: the numbers cover the log up to (excluding) these offsets. */
  readonly offsets: readonly { readonly partition: number; readonly next: string }[];
}

export function toDocument(
  report: LatenessReport,
  topic: string,
  offsets: ReadonlyMap<number, bigint>,
): LatenessDocument {
  return {
    topic,
    offsets: [...offsets].sort(([a], [b]) => a - b).map(([partition, next]) => ({ partition, next: String(next) })),
    ...report,
  };
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(2))} %`;
}

/** `15s`, `1m`, `1500ms`; zero as `0s`. */
function duration(ms: number): string {
  return ms === 0 ? '0s' : formatDuration(ms);
}

function distributionCells(entry: Distribution): string[] {
  return [entry.p50, entry.p90, entry.p99, entry.p999, entry.max].map((ms) => duration(ms).padStart(8));
}

/** The report as `kappa lateness` prints it. */
export function formatLateness(document: LatenessDocument): string[] {
  const { windows } = document;
  const lines = [
    `lateness of ${document.topic}: ${formatCount(document.events)} events, ${formatCount(document.bad)} bad, ` +
      `${formatCount(document.future)} future-time, ` +
      `read to offsets ${document.offsets.map((entry) => `${entry.partition}:${entry.next}`).join(' ') || '(empty)'}`,
    `window ${formatDuration(windows.sizeMs)}, slide ${formatDuration(windows.slideMs)}`,
    '',
    'lateness (behind the largest earlier time in its partition; 3 significant digits)',
    `${'partition'.padEnd(11)}${'events'.padStart(10)}${['p50', 'p90', 'p99', 'p99.9', 'max'].map((h) => h.padStart(8)).join('')}`,
    `${'all'.padEnd(11)}${formatCount(document.events).padStart(10)}${distributionCells(document.overall).join('')}`,
    ...document.partitions.map(
      (entry) =>
        `${String(entry.partition).padEnd(11)}${formatCount(entry.events).padStart(10)}${distributionCells(entry).join('')}`,
    ),
    '',
    `${'delay'.padEnd(8)}${'late events'.padStart(22)}${'late windows'.padStart(14)}`,
    ...document.delays.map(
      (cost) =>
        `${duration(cost.delayMs).padEnd(8)}${`${formatCount(cost.lateEvents)} (${percent(cost.lateFraction)})`.padStart(22)}${formatCount(cost.lateWindows).padStart(14)}`,
    ),
    '',
    `target ${percent(document.target)} late: watermark ${duration(document.recommendedMs)} is the smallest (to the second) that meets it` +
      (document.smallestCandidateMs === null
        ? '; none of the delays above does'
        : `; of the delays above, ${duration(document.smallestCandidateMs)}`),
  ];
  return lines;
}
