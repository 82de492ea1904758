import type { Dimension } from '../aggregates/job-names.js';
import type { WindowSettings } from '../model/window-settings.js';
import type { VersionRecord } from './catalog.js';

export interface LiveVersion {
  readonly version: string;
  readonly settings: WindowSettings;
  readonly dims: readonly Dimension[];
  readonly topic: string;
}

/**
 * Which aggregators `kappa up` runs (pure): the serving version, with the settings it was created
 * with — after a cutover the live pipeline feeds v2, not v1 — plus every candidate that has caught
 * up (or done its backlog) and every shadow, so it stays ready to serve and its diff stays current. Retired versions are not fed any more. On
 * a fresh machine (nothing serves, no v1 yet) v1 with the configured settings.
 */
export function liveVersions(
  records: readonly VersionRecord[],
  serving: string | undefined,
  fresh: { readonly settings: WindowSettings; readonly dims: readonly Dimension[]; readonly topic: string },
): LiveVersion[] {
  const live = (record: VersionRecord): LiveVersion => ({
    version: record.version,
    settings: record.settings,
    dims: record.dims,
    topic: record.topic === '' ? fresh.topic : record.topic,
  });
  const first = records.find((record) => record.version === (serving ?? 'v1'));
  const chosen: LiveVersion[] = [first === undefined ? { version: serving ?? 'v1', ...fresh } : live(first)];
  for (const record of records)
    if (
      record.version !== chosen[0]?.version &&
      (record.state === 'caught-up' || record.state === 'backlog-done' || record.state === 'shadow') &&
      (record.topic === fresh.topic || record.topic === '')
    )
      chosen.push(live(record));
  return chosen;
}
