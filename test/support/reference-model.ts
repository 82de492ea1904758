import type { KeyedEvent } from '../../src/aggregates/window-engine.js';
import type { WindowSettings } from '../../src/model/window-settings.js';

export interface ReferenceResult {
  /** `${windowStart}|${dim}|${key}` → total over partitions. */
  readonly rows: Map<string, number>;
  readonly late: number;
  /** (event, window) misses: an event of a hopping window may miss some of its windows only. */
  readonly lateWindows?: number;
}

/**
 * SPEC §1.3 by brute force, for the tests: every (event, window) decided from the events before it
 * in its own partition; a window's count of a partition appears once that partition's final
 * watermark reached the window's end. An event is late when it was counted in none of its windows;
 * each missed (event, window) is a late window.
 */
export function referenceModel(
  partitions: readonly (readonly KeyedEvent[])[],
  settings: WindowSettings,
  closeEverything = false,
): ReferenceResult {
  const rows = new Map<string, number>();
  let late = 0;
  let lateWindows = 0;
  for (const events of partitions) {
    // closeEverything: as after --idle-close, every counted event is in the table.
    const finalWatermark = closeEverything
      ? Number.POSITIVE_INFINITY
      : events.length === 0
        ? Number.NEGATIVE_INFINITY
        : Math.max(...events.map((event) => event.time)) - settings.delayMs;
    let maxBefore = Number.NEGATIVE_INFINITY;
    for (const event of events) {
      const watermark = maxBefore - settings.delayMs;
      let missed = 0;
      let windows = 0;
      for (
        let start = Math.floor(event.time / settings.slideMs) * settings.slideMs;
        start > event.time - settings.sizeMs;
        start -= settings.slideMs
      ) {
        const end = start + settings.sizeMs;
        windows += 1;
        if (watermark >= end) {
          missed += 1;
          continue;
        }
        if (finalWatermark < end) continue;
        for (const [dim, key] of Object.entries(event.keys))
          rows.set(`${start}|${dim}|${key}`, (rows.get(`${start}|${dim}|${key}`) ?? 0) + 1);
      }
      if (missed === windows) late += 1;
      lateWindows += missed;
      maxBefore = Math.max(maxBefore, event.time);
    }
  }
  return { rows, late, lateWindows };
}
