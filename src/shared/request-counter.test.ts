import { describe, expect, it } from 'vitest';
import { RequestCounter } from './request-counter.js';

describe('RequestCounter', () => {
  it('allows max requests per client per window, then says how long to wait', () => {
    let now = 1_000;
    const counter = new RequestCounter(2, 60_000, () => now);
    expect(counter.hit('a')).toEqual({ allowed: true });
    expect(counter.hit('a')).toEqual({ allowed: true });
    expect(counter.hit('b')).toEqual({ allowed: true });
    now += 10_000;
    expect(counter.hit('a')).toEqual({ allowed: false, retryAfterMs: 50_000 });
    now += 50_000;
    expect(counter.hit('a')).toEqual({ allowed: true });
  });

  it('tracks at most maxClients, forgetting the oldest', () => {
    const counter = new RequestCounter(1, 60_000, () => 0, 2);
    counter.hit('a');
    counter.hit('b');
    counter.hit('c');
    expect(counter.hit('a')).toEqual({ allowed: true }); // forgotten, counted afresh
    expect(counter.hit('c')).toEqual({ allowed: false, retryAfterMs: 60_000 });
  });
});
