import { describe, expect, it } from 'vitest';
import { isLoopback, isLoopbackHostHeader } from './loopback.js';

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST'])('%s is loopback', (host) => {
    expect(isLoopback(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', 'localhost.evil.com'])('%s is not', (host) => {
    expect(isLoopback(host)).toBe(false);
  });
});

describe('isLoopbackHostHeader', () => {
  it.each(['127.0.0.1', '127.0.0.1:3000', 'localhost', 'localhost:8081', '[::1]', '[::1]:3000', undefined])(
    'serves Host %s',
    (host) => {
      expect(isLoopbackHostHeader(host)).toBe(true);
    },
  );
  it.each([
    'evil.example.com',
    'evil.example.com:3000',
    'localhost.evil.com',
    '127.0.0.1.nip.io:3000',
    '10.0.0.5:3000',
    '0.0.0.0:3000',
    '::1',
    '',
    'localhost:3000:1',
    '[::1]x',
  ])('refuses Host %s', (host) => {
    expect(isLoopbackHostHeader(host)).toBe(false);
  });
});
