import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './closest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['KAPPA_KAFKA_BROKER', 'KAPPA_KAFKA_BROKERS', 1],
  ])('%j → %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closest', () => {
  const names = ['KAPPA_KAFKA_BROKERS', 'KAPPA_MYSQL_URL', 'KAPPA_WATERMARK'];
  it('suggests the near name for a typo', () => {
    expect(closest('KAPPA_KAFKA_BROKER', names)).toBe('KAPPA_KAFKA_BROKERS');
    expect(closest('KAPPA_WATERMRAK', names)).toBe('KAPPA_WATERMARK');
  });
  it('suggests nothing for an unrelated name', () => {
    expect(closest('KAPPA_COMPLETELY_DIFFERENT_THING', names)).toBeUndefined();
    expect(closest('X', [])).toBeUndefined();
  });
});
