import { describe, expect, it } from 'vitest';
import { preflightRefusal, unresolvable, type SchemaIdReport } from './schema-preflight.js';

const report = (schemaId: number | null, records: number, resolves: boolean): SchemaIdReport => ({
  schemaId,
  records,
  resolves,
  readable: resolves,
  deadLetters: {},
});

describe('schema preflight', () => {
  it('refuses only ids the registry does not know, naming them with their records', () => {
    const reports = [report(null, 2, false), report(1, 10, true), report(7, 3, false), report(9, 1, false)];
    expect(unresolvable(reports)).toEqual([7, 9]);
    const refusal = preflightRefusal('stages', reports);
    expect(refusal?.code).toBe('KAPPA_RECOVER_PREFLIGHT');
    expect(refusal?.message).toContain('7 (3 records), 9 (1 records)');
    expect(refusal?.message).toContain('--allow-dead-letters');
  });

  it('lets a log of known ids through (unreadable ones are dead letters the plan shows)', () => {
    expect(
      preflightRefusal('stages', [report(1, 10, true), { ...report(2, 1, true), readable: false }]),
    ).toBeUndefined();
  });
});
