import { DIMENSION_SPECS, type Dimension } from '../model/dimensions.js';
import type { SinkKind } from '../model/version-settings.js';

export { DIMENSIONS, type Dimension } from '../model/dimensions.js';

export function isJobVersion(name: string): boolean {
  return /^v\d{1,6}$/.test(name);
}

/** Everything a job version's name determines (STYLE: names derive from one place). */
export function jobNames(version: string) {
  if (!isJobVersion(version))
    throw new Error(`job version names are v + digits, e.g. v1; got ${JSON.stringify(version)}`);
  return {
    version,
    /**
     * Per stages topic and version (two pipelines on one cluster never share a group); another
     * sink than MySQL gets its own group, so one version can run into both stores.
     */
    consumerGroup: (stagesTopic: string, sink: SinkKind = 'mysql') =>
      `kappa-aggregate.${stagesTopic}.${version}${sink === 'mysql' ? '' : `-${sink}`}`,
    lateTopic: (stagesTopic: string) => `${stagesTopic}.late`,
    /** Records the aggregator cannot decode, or whose time or keys it cannot use. */
    deadLetterTopic: (stagesTopic: string) => `${stagesTopic}.dlq`,
    table: (dim: Dimension) => `${DIMENSION_SPECS[dim].table}_${version}`,
    column: (dim: Dimension) => DIMENSION_SPECS[dim].column,
  } as const;
}
