import { describe, expect, it } from 'vitest';
import { LatenessAnalyser } from './analyser.js';
import { formatLateness, toDocument } from './format.js';

describe('formatLateness', () => {
  it('prints the distribution, the cost of each delay and the recommendation', () => {
    const analyser = new LatenessAnalyser({ sizeMs: 10_000, slideMs: 10_000 });
    const base = Date.UTC(2026, 10, 22, 11, 0, 0);
    for (let id = 0; id < 200; id += 1) analyser.step(id % 2, base + id * 1_000 - (id % 50 === 49 ? 30_000 : 0));
    const document = toDocument(
      analyser.report([15_000, 60_000], 0.001),
      'events_stages',
      new Map([
        [1, 100n],
        [0, 100n],
      ]),
    );
    expect(document.offsets).toEqual([
      { partition: 0, next: '100' },
      { partition: 1, next: '100' },
    ]);
    const lines = formatLateness(document);
    expect(lines[0]).toBe('lateness of events_stages: 200 events, 0 bad, 0 future-time, read to offsets 0:100 1:100');
    // Id 49 is in partition 1 after id 47: 47 s − 19 s behind; its window ends at 20 s, so 28 s recovers it.
    expect(lines).toContain('all               200      0s      0s     28s     28s     28s');
    expect(lines).toContain('0                 100      0s      0s      0s      0s      0s');
    expect(lines).toContain('15s                    4 (2 %)             4');
    expect(lines.at(-1)).toBe(
      'target 0.1 % late: watermark 28s is the smallest (to the second) that meets it; of the delays above, 1m',
    );
  });
});
