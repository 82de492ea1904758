/**
 * What a window is (SPEC §1.3): windows of `sizeMs` sliding by `slideMs`, aligned to the Unix
 * epoch like Spark's `window()`, closed once a partition's watermark (its largest event time so far
 * minus the watermark delay `delayMs`) has passed their end. The engine (aggregates/window-engine.ts),
 * the lateness analyser and the explanations all count with these.
 */

import { windowCountProblem, windowSizeProblem } from '../shared/time-bounds.js';

export interface WindowSettings {
  readonly sizeMs: number;
  readonly slideMs: number;
  /**
   * The watermark delay (`--watermark`, KAPPA_WATERMARK): a setting. The watermark itself is a
   * position in event time, per partition: the largest event time so far minus this delay.
   */
  readonly delayMs: number;
}

export function validateSettings(settings: WindowSettings): string | undefined {
  const { sizeMs, slideMs, delayMs } = settings;
  if (!(Number.isSafeInteger(sizeMs) && sizeMs > 0))
    return 'the window size must be a positive whole number of milliseconds';
  if (!(Number.isSafeInteger(slideMs) && slideMs > 0 && slideMs <= sizeMs))
    return 'the slide must be positive and at most the window size';
  if (!(Number.isSafeInteger(delayMs) && delayMs >= 0)) return 'the watermark delay must be zero or more';
  // Bounded work per event (SPEC §3), and windows the tables can store at all.
  return windowCountProblem(sizeMs, slideMs) ?? windowSizeProblem(sizeMs);
}

/** Starts of the windows [start, start + size) that contain `time`, ascending (epoch-aligned). */
export function windowsOf(time: number, settings: WindowSettings): number[] {
  const { sizeMs, slideMs } = settings;
  const last = Math.floor(time / slideMs) * slideMs;
  const starts: number[] = [];
  for (let start = last; start > time - sizeMs; start -= slideMs) starts.unshift(start);
  return starts;
}
