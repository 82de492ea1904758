import type { SinkKind } from './sink.js';

/** Everything a job version's name determines (STYLE: names derive from one place). */
export const DIMENSIONS = ['user', 'dept', 'age'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const COLUMN: Record<Dimension, { readonly table: string; readonly column: string; readonly type: string }> = {
  user: { table: 'events_users', column: 'user_name', type: 'VARCHAR(191) NOT NULL' },
  dept: { table: 'events_depts', column: 'dept_name', type: 'VARCHAR(191) NOT NULL' },
  age: { table: 'events_ages', column: 'age', type: 'INT NOT NULL' },
};

export function isJobVersion(name: string): boolean {
  return /^v\d{1,6}$/.test(name);
}

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
    table: (dim: Dimension) => `${COLUMN[dim].table}_${version}`,
    column: (dim: Dimension) => COLUMN[dim].column,
    columnType: (dim: Dimension) => COLUMN[dim].type,
  } as const;
}
