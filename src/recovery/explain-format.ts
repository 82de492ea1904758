import type { ExplainedEvent, Reason, RowExplanation } from './explain.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const seconds = (ms: number) => `${Number((ms / 1_000).toFixed(3))} s`;

function because(why: Reason, windowEnd: number): string {
  switch (why.kind) {
    case 'late':
      return (
        `late in ${why.version} (p${why.partition}@${why.offset}): its watermark ${iso(why.watermark.watermark)} ` +
        `(set by p${why.watermark.partition}@${why.watermark.offset}) was ${seconds(why.pastWindowEndMs)} past the window's end ${iso(windowEnd)}, ` +
        `the event ${seconds(why.behindWatermarkMs)} behind it`
      );
    case 'other-key':
      return `${why.version} has the same event id (p${why.partition}@${why.offset}) under ${JSON.stringify(why.key)}${why.counted ? '' : ', late there too'}: the enrichment differs`;
    case 'absent':
      return `${why.version}'s log, up to its progress, has no event with this id in this window (not consumed yet, a bad record there, or another log)`;
  }
}

export function describeEvent(event: ExplainedEvent, windowEnd: number): string {
  return `p${event.partition}@${event.offset} id ${event.id} at ${iso(event.time)}: counted in ${event.countedBy}; ${because(event.why, windowEnd)}`;
}

/** One line for the row: its counts, the delta and how the events account for it. */
export function describeRow(row: RowExplanation): string {
  const delta = row.countTo - row.countFrom;
  const added = row.events.filter((event) => event.countedBy === row.to).length;
  const removed = row.events.length - added;
  const verdict = !row.exact
    ? `not exact: ${row.problem ?? ''}`
    : row.byLateness
      ? 'explained by lateness'
      : 'explained, not by lateness alone';
  return (
    `${row.dim} ${JSON.stringify(row.key)} window ${iso(row.windowStart)}–${iso(row.windowEnd)}: ` +
    `${row.from} ${row.countFrom}, ${row.to} ${row.countTo} (${delta >= 0 ? '+' : ''}${delta}) = ` +
    `${added} counted by ${row.to} only − ${removed} by ${row.from} only; ${verdict}`
  );
}

/** The row and, below it, each of its events (at most `limit`). */
export function describeRowInFull(row: RowExplanation, limit = Number.POSITIVE_INFINITY): string[] {
  const lines = [describeRow(row)];
  for (const event of row.events.slice(0, limit)) lines.push(`  ${describeEvent(event, row.windowEnd)}`);
  if (row.events.length > limit) lines.push(`  … and ${row.events.length - limit} more`);
  return lines;
}
