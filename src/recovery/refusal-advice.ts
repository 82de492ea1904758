import type { Dimension } from '../aggregates/job-names.js';
import type { WindowSettings } from '../model/window-settings.js';

/** The version a cutover was refused for, with what it was created with (its catalog record). */
export interface BehindVersion {
  readonly version: string;
  readonly topic: string;
  readonly settings: WindowSettings;
  readonly dims: readonly Dimension[];
}

/** Who consumes for the version now: its aggregator's consumer group and how many members it has. */
export interface Feeders {
  readonly group: string;
  readonly members: number;
}

/** 10s, 1m, 1h: durations as the flags take them. */
function duration(millis: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (millis !== 0 && millis % size === 0) return `${millis / size}${unit}`;
  return `${millis}ms`;
}

/** The flags that start an aggregator for the version with the settings it was created with. */
export function versionFlags(version: BehindVersion): string {
  const { sizeMs, slideMs, delayMs } = version.settings;
  return [
    `--stages-topic ${version.topic}`,
    `--window ${duration(sizeMs)}`,
    `--slide ${duration(slideMs)}`,
    `--watermark ${duration(delayMs)}`,
    `--dims ${version.dims.join(',')}`,
  ].join(' ');
}

/**
 * What a user should know when a cutover is refused because the version is behind (SPEC §1.4):
 * whether anything is feeding it, and what to run — waiting helps only when something is.
 */
export function behindAdvice(version: BehindVersion, feeders: Feeders): string {
  const { version: name } = version;
  if (feeders.members > 0)
    return (
      `${feeders.members === 1 ? '1 consumer feeds' : `${feeders.members} consumers feed`} ${name} ` +
      `(consumer group ${feeders.group}): it is catching up; \`kappa cutover --to ${name} --wait 2m\` switches once it has`
    );
  const flags = versionFlags(version);
  return (
    `nothing feeds ${name} (its consumer group ${feeders.group} has no members): resume it with ` +
    `\`kappa aggregate --version ${name} ${flags}\` and cut over once it has caught up, or run ` +
    `\`kappa recover --to ${name} ${flags} --cutover\`, which switches readers the moment it has`
  );
}
