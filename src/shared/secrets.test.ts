import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK, maskDeep, maskSecrets, secretMatches } from './secrets.js';

describe('maskSecrets', () => {
  it.each([
    [
      'invalid KAPPA_MYSQL_URL="mysql://root:S3cret@127.0.0.1:3306/kappa"',
      'invalid KAPPA_MYSQL_URL="mysql://root:***@127.0.0.1:3306/kappa"',
    ],
    ['mongodb://kappa:p%40ss@db:27017/kappa?authSource=admin', 'mongodb://kappa:***@db:27017/kappa?authSource=admin'],
    ['see http://admin:hunter2@registry:8081/subjects now', 'see http://admin:***@registry:8081/subjects now'],
    ['mysql://root:p@ss@host/db', 'mysql://root:***@host/db'],
    ['mysql://root:a:b@host/db', 'mysql://root:***@host/db'],
    ['two: mysql://a:x@h/d and https://b:y@h2', 'two: mysql://a:***@h/d and https://b:***@h2'],
    ['Authorization: Bearer abcdefghijklmnopq', 'Authorization: Bearer ***'],
  ])('masks %s', (text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
  });

  it.each([
    'mysql://root@127.0.0.1:3306/kappa',
    'http://127.0.0.1:8081',
    'mailto:someone@example.com',
    'user@example.com said hello',
  ])('leaves %s alone (no password in it)', (text) => {
    expect(maskSecrets(text)).toBe(text);
  });

  it('masks the given secret values wherever they appear, but not short ones', () => {
    expect(maskSecrets('token 0123456789abcdef0123 in a message', ['0123456789abcdef0123'])).toBe(
      `token ${MASK} in a message`,
    );
    expect(maskSecrets('a b c', ['a'])).toBe('a b c');
  });

  it('never lets a password through, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9!$%&*+=~^-]{6,30}$/),
        fc.constantFrom('mysql', 'mongodb', 'http', 'https'),
        (password, scheme) => {
          const masked = maskSecrets(`failed: ${scheme}://user:${password}@host:1/db`);
          expect(masked).toBe(`failed: ${scheme}://user:${MASK}@host:1/db`);
        },
      ),
    );
  });
});

describe('maskDeep', () => {
  it('masks strings in objects and blanks fields named like secrets', () => {
    expect(maskDeep({ url: 'mysql://root:pw@h/d', nested: [{ apiToken: 'abc' }], count: 3, token: '' })).toEqual({
      url: `mysql://root:${MASK}@h/d`,
      nested: [{ apiToken: MASK }],
      count: 3,
      token: '',
    });
  });
});

describe('secretMatches', () => {
  const token = 'a'.repeat(24);
  it('accepts the token and refuses anything else', () => {
    expect(secretMatches(token, token)).toBe(true);
    expect(secretMatches(`${token}b`, token)).toBe(false);
    expect(secretMatches('', token)).toBe(false);
  });

  it('is false, not a throw, for strings of the same length but other byte lengths', () => {
    expect(secretMatches('é'.repeat(24), token)).toBe(false);
    expect(secretMatches('日'.repeat(24), token)).toBe(false);
  });

  it('is never true for an empty expected token', () => {
    expect(secretMatches('', '')).toBe(false);
  });

  it('agrees with === on any pair of strings', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (given, expected, same) => {
          const candidate = same ? expected : given;
          return secretMatches(candidate, expected) === (candidate === expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
