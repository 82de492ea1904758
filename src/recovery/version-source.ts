import type { Dimension } from '../aggregates/job-names.js';
import { KappaError } from '../shared/errors.js';
import type { PartitionProgressRow, VersionRecord } from './catalog.js';
import type { RecordedDigest } from './digest-compare.js';

/**
 * What `kappa verify` reads of a version, whichever store holds it: the MySQL catalog
 * (catalog.ts) or a MongoDB sink's database (mongo-versions.ts).
 */
export interface VersionSource {
  version(name: string): Promise<VersionRecord>;
  progress(version: string, topic: string): Promise<readonly Pick<PartitionProgressRow, 'partition' | 'watermark'>[]>;
  digests(version: string, dim: Dimension): Promise<ReadonlyMap<number, RecordedDigest>>;
}

const unknown = (error: unknown) => error instanceof KappaError && error.code === 'KAPPA_VERSION_UNKNOWN';

/**
 * The first store that knows a version answers for it: MySQL, then (opened only when MySQL does not
 * know a version) MongoDB. Two versions may live in different stores: their digests are the same
 * function of their rows (window-digest.ts).
 */
export function firstKnowing(first: VersionSource, second: () => Promise<VersionSource | undefined>): VersionSource {
  const owners = new Map<string, VersionSource>();
  const ownerOf = (version: string) => owners.get(version) ?? first;
  return {
    async version(name) {
      try {
        const record = await first.version(name);
        owners.set(name, first);
        return record;
      } catch (error) {
        const other = unknown(error) ? await second().catch(() => undefined) : undefined;
        if (other === undefined) throw error;
        const record = await other.version(name).catch((otherError: unknown) => {
          throw unknown(otherError) ? error : otherError;
        });
        owners.set(name, other);
        return record;
      }
    },
    progress: (version, topic) => ownerOf(version).progress(version, topic),
    digests: (version, dim) => ownerOf(version).digests(version, dim),
  };
}
