import type { EnrichmentTables } from './rules.js';

/**
 * Small enrichment tables for logs written straight into a stages topic (the aggregate bench, the
 * aggregator's test harness): ids 0 and 2 are both Kim (two users, one name), 1 is Lee, every other
 * uid is Unknown Name; one department (Data) and Unknown Dept for the rest; ASCII gender labels.
 */
export const SAMPLE_TABLES: EnrichmentTables = Object.freeze({
  names: new Map([
    [0, 'Kim'],
    [1, 'Lee'],
    [2, 'Kim'],
  ]),
  depts: new Map([[0, 'Data']]),
  maleLabel: 'M',
  femaleLabel: 'F',
});
