import ms from 'ms';

/**
 * Parses a human duration such as `15s`, `1m`, `500ms`, `60 minutes` or `1.5h` into milliseconds.
 * A bare number is refused on purpose: `15` could mean seconds or milliseconds, and a watermark
 * off by a factor of 1000 is a silent disaster. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+)?\s*[a-z]+$/i.test(trimmed)) return undefined;
  const value = ms(trimmed as ms.StringValue) as number | undefined;
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return Math.round(value);
}

/** Formats milliseconds back into the shortest exact `ms` form (`15s`, `1m`, `1500ms`). */
export function formatDuration(millis: number): string {
  const units: ReadonlyArray<readonly [string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) {
    if (millis !== 0 && millis % size === 0) return `${millis / size}${unit}`;
  }
  return `${millis}ms`;
}
