import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveReplication, underReplicationProblem } from './replication.js';

describe('resolveReplication', () => {
  it('derives three copies, two in sync, from three brokers on', () => {
    expect(resolveReplication('auto', 'auto', 3)).toEqual({ factor: 3, minInsync: 2 });
    expect(resolveReplication('auto', 'auto', 7)).toEqual({ factor: 3, minInsync: 2 });
  });

  it('keeps one or two brokers writable when one copy is in sync', () => {
    expect(resolveReplication('auto', 'auto', 1)).toEqual({ factor: 1, minInsync: 1 });
    expect(resolveReplication('auto', 'auto', 2)).toEqual({ factor: 2, minInsync: 1 });
  });

  it('takes explicit values, never a minimum above the factor', () => {
    expect(resolveReplication(2, 'auto', 5)).toEqual({ factor: 2, minInsync: 1 });
    expect(resolveReplication(3, 3, 5)).toEqual({ factor: 3, minInsync: 3 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 9 }),
        (f, m, b) => {
          const resolved = resolveReplication(f, m, b);
          expect(resolved.minInsync).toBeLessThanOrEqual(resolved.factor);
          expect(resolved.minInsync).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });
});

describe('underReplicationProblem', () => {
  it('names the topic, both counts and the fix when a topic has too few replicas', () => {
    const problem = underReplicationProblem('events', 1, 3);
    expect(problem).toContain('topic events has 1 replica but the cluster allows 3');
    expect(problem).toContain('kafka-reassign-partitions.sh');
    expect(problem).toContain('KAPPA_TOPIC_REPLICATION=1');
  });

  it('is silent when the topic has enough', () => {
    expect(underReplicationProblem('events', 3, 3)).toBeUndefined();
    expect(underReplicationProblem('events', 3, 1)).toBeUndefined();
  });
});
