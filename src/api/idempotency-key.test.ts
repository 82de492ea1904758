import { describe, expect, it } from 'vitest';
import { bodyDigest, idempotencyLockName, validIdempotencyKey } from './idempotency-key.js';

describe('Idempotency-Key', () => {
  it('takes 1 to 200 printable ASCII characters', () => {
    expect(validIdempotencyKey('a')).toBe(true);
    expect(validIdempotencyKey('order-42 retry~')).toBe(true);
    expect(validIdempotencyKey('x'.repeat(200))).toBe(true);
    expect(validIdempotencyKey('')).toBe(false);
    expect(validIdempotencyKey('x'.repeat(201))).toBe(false);
    expect(validIdempotencyKey('tab\there')).toBe(false);
    expect(validIdempotencyKey('café')).toBe(false);
  });

  it('digests bodies and names locks within MySQL limits', () => {
    expect(bodyDigest([{ hello: 'a' }])).toBe(bodyDigest([{ hello: 'a' }]));
    expect(bodyDigest([{ hello: 'a' }])).not.toBe(bodyDigest([{ hello: 'b' }]));
    const name = idempotencyLockName('cluster/events', 'k'.repeat(200));
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).not.toBe(idempotencyLockName('cluster/events', 'other'));
  });
});
