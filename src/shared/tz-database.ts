/**
 * The time-zone database a version was created with. Event times are local times in a zone
 * (`--time-zone`), turned into instants by the tz rules inside Node (ICU's copy of the IANA
 * database, `process.versions.tz`): the same log replayed under another release whose rules for
 * the zone changed (a country moving its DST dates, or its offset) puts some events in other
 * windows. A version records the release it was created with; kappa warns when the running one
 * differs, so a replay that does not reproduce its version is explained rather than a mystery.
 */

/** The tz database release of the running Node (`2025c`), null when Node was built without ICU data. */
export function runningTzVersion(): string | null {
  return process.versions.tz ?? null;
}

/** A version whose recorded tz release differs from the running Node's. */
export interface TzDrift {
  readonly version: string;
  readonly recorded: string;
  readonly running: string | null;
}

/**
 * The drift of `version` created with tz release `recorded`: undefined when they agree or the
 * release is unknown (null: created before kappa recorded it).
 */
export function tzDrift(version: string, recorded: string | null, running = runningTzVersion()): TzDrift | undefined {
  if (recorded === null || recorded === running) return undefined;
  return { version, recorded, running };
}

/** One line for a log or a report: what differs, what it may change, what to do. */
export function describeTzDrift(drift: TzDrift): string {
  return `job version ${drift.version} was created with time-zone database ${drift.recorded}, this Node has ${drift.running ?? 'none'}: where the rules of its time zone changed between the two, replaying its events puts them in other windows than it did. Run it with a Node of tz ${drift.recorded} to reproduce it, or recover into a new version to rebuild it with these rules`;
}
