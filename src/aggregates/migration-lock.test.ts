import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { migrationsLockName } from './migration-lock.js';

describe('migrationsLockName', () => {
  it('names the database, within MySQL’s 64 characters, one name per database', () => {
    expect(migrationsLockName('kappa')).toBe('kappa_migrations.kappa');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 64 }), (a, b) => {
        expect(migrationsLockName(a).length).toBeLessThanOrEqual(64);
        if (a !== b) expect(migrationsLockName(a)).not.toBe(migrationsLockName(b));
      }),
    );
  });
});
