import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceModel } from '../../test/support/reference-model.js';
import { PartitionWindows, type KeyedEvent, type PartitionSnapshot, type WindowRow } from './window-engine.js';
import { validateSettings, windowsOf, type WindowSettings } from '../model/window-settings.js';

const tumbling: WindowSettings = { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 };
const at = (seconds: number, user = 'Kim'): KeyedEvent => ({ time: seconds * 1_000, keys: { user } });

describe('windowsOf', () => {
  it('aligns tumbling windows to the epoch', () => {
    expect(windowsOf(0, tumbling)).toEqual([0]);
    expect(windowsOf(9_999, tumbling)).toEqual([0]);
    expect(windowsOf(10_000, tumbling)).toEqual([10_000]);
    expect(windowsOf(-1, tumbling)).toEqual([-10_000]);
  });

  it('gives every hopping window that contains the time, like Spark', () => {
    expect(windowsOf(12_000, { sizeMs: 10_000, slideMs: 5_000, delayMs: 0 })).toEqual([5_000, 10_000]);
    expect(windowsOf(12_000, { sizeMs: 10_000, slideMs: 3_000, delayMs: 0 })).toEqual([3_000, 6_000, 9_000, 12_000]);
  });

  it('contains the time in each window, and no other window does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        (time, a, b) => {
          const settings = { sizeMs: Math.max(a, b) * 1_000, slideMs: Math.min(a, b) * 1_000, delayMs: 0 };
          // Brute force: every slide-aligned start near the time, kept when the window holds it.
          const expected: number[] = [];
          for (
            let start = Math.floor((time - settings.sizeMs) / settings.slideMs) * settings.slideMs;
            start <= time;
            start += settings.slideMs
          ) {
            if (start <= time && time < start + settings.sizeMs) expected.push(start);
          }
          expect(windowsOf(time, settings)).toEqual(expected);
        },
      ),
    );
  });
});

describe('PartitionWindows: examples (window 10 s, watermark 15 s)', () => {
  it('emits a window once the watermark passes its end, and only then', () => {
    const windows = new PartitionWindows(tumbling);
    expect(windows.step(at(1)).emitted).toEqual([]);
    expect(windows.step(at(2, 'Lee')).emitted).toEqual([]);
    expect(windows.step(at(24)).emitted).toEqual([]); // watermark 9 s
    const { emitted } = windows.step(at(25)); // watermark 10 s = end of [0, 10)
    expect(emitted).toEqual([
      { windowStart: 0, windowEnd: 10_000, dim: 'user', key: 'Kim', count: 1 },
      { windowStart: 0, windowEnd: 10_000, dim: 'user', key: 'Lee', count: 1 },
    ]);
  });

  it('counts an event whose window has closed as late, not in the totals', () => {
    const windows = new PartitionWindows(tumbling);
    windows.step(at(30));
    expect(windows.step(at(5)).lateWindows).toBe(1); // watermark 15 s ≥ end 10 s
    expect(windows.step(at(12)).lateWindows).toBe(0); // [10, 20) still open
    expect(windows.late).toBe(1);
    expect(windows.closeAll()).toEqual([
      { windowStart: 10_000, windowEnd: 20_000, dim: 'user', key: 'Kim', count: 1 },
      { windowStart: 30_000, windowEnd: 40_000, dim: 'user', key: 'Kim', count: 1 },
    ]);
  });

  it('treats a watermark exactly at the end of a window as closed', () => {
    const windows = new PartitionWindows({ sizeMs: 10_000, slideMs: 10_000, delayMs: 5_000 });
    expect(windows.step(at(15)).emitted).toEqual([]);
    expect(windows.step(at(9)).lateWindows).toBe(1); // watermark 10 s = end of [0, 10)
  });

  it('decides lateness from events earlier in the partition, not from the event itself', () => {
    const windows = new PartitionWindows({ sizeMs: 10_000, slideMs: 10_000, delayMs: 0 });
    expect(windows.step(at(9)).lateWindows).toBe(0);
    expect(windows.step(at(9.5)).lateWindows).toBe(0);
  });

  it('resumes from a snapshot exactly where it stood', () => {
    const windows = new PartitionWindows(tumbling);
    windows.step(at(1));
    windows.step(at(40));
    windows.step(at(3));
    const restored = new PartitionWindows(
      tumbling,
      JSON.parse(JSON.stringify(windows.snapshot())) as PartitionSnapshot,
    );
    expect(restored.snapshot()).toEqual(windows.snapshot());
    expect(restored.step(at(60)).emitted).toEqual(windows.step(at(60)).emitted);
  });

  it('validates settings', () => {
    expect(validateSettings(tumbling)).toBeUndefined();
    expect(validateSettings({ sizeMs: 10_000, slideMs: 20_000, delayMs: 0 })).toMatch(/slide/);
    expect(validateSettings({ sizeMs: 0, slideMs: 0, delayMs: 0 })).toMatch(/size/);
    expect(validateSettings({ sizeMs: 10, slideMs: 10, delayMs: -1 })).toMatch(/delay/);
    // At most 1,000 windows per event: the work one event may cause is bounded.
    expect(validateSettings({ sizeMs: 10_000, slideMs: 10, delayMs: 0 })).toBeUndefined();
    expect(validateSettings({ sizeMs: 86_400_000, slideMs: 1, delayMs: 0 })).toMatch(
      /window 86400s with slide 1ms .* 86400000 windows: at most 1000/,
    );
  });
});

function total(rows: readonly WindowRow[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const row of rows)
    totals.set(
      `${row.windowStart}|${row.dim}|${row.key}`,
      (totals.get(`${row.windowStart}|${row.dim}|${row.key}`) ?? 0) + row.count,
    );
  return totals;
}

const settingsArbitrary = fc
  .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 20 }))
  .map(([a, b, delay]): WindowSettings => ({
    sizeMs: Math.max(a, b) * 1_000,
    slideMs: Math.min(a, b) * 1_000,
    delayMs: delay * 1_000,
  }));

const eventArbitrary = fc.record({
  // Whole seconds hit the boundaries (watermark exactly at a window's end); half seconds fall between.
  time: fc
    .tuple(fc.integer({ min: 0, max: 120 }), fc.constantFrom(0, 500))
    .map(([seconds, millis]) => seconds * 1_000 + millis),
  keys: fc.record({ user: fc.constantFrom('Kim', 'Lee', 'Unknown Name'), age: fc.constantFrom('1', '2') }),
});

describe('PartitionWindows agrees with the brute-force reference model', () => {
  it('over random out-of-order logs, partitions, keys and settings, with restarts anywhere', () => {
    fc.assert(
      fc.property(
        settingsArbitrary,
        fc.array(fc.array(eventArbitrary, { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (settings, partitions, restartPoints) => {
          const emitted: WindowRow[] = [];
          let late = 0;
          let lateWindows = 0;
          for (const events of partitions) {
            let windows = new PartitionWindows(settings);
            events.forEach((event, index) => {
              // A restart: the state goes through its committed JSON form and back.
              if (restartPoints.includes(index))
                windows = new PartitionWindows(
                  settings,
                  JSON.parse(JSON.stringify(windows.snapshot())) as PartitionSnapshot,
                );
              emitted.push(...windows.step(event).emitted);
            });
            late += windows.late;
            lateWindows += windows.snapshot().lateWindows ?? 0;
          }
          const expected = referenceModel(partitions, settings);
          expect(total(emitted)).toEqual(expected.rows);
          expect(late).toBe(expected.late);
          expect(lateWindows).toBe(expected.lateWindows);
        },
      ),
      { numRuns: 1_500 },
    );
  });

  it('emits each (window, key) of a partition once', () => {
    fc.assert(
      fc.property(settingsArbitrary, fc.array(eventArbitrary, { maxLength: 60 }), (settings, events) => {
        const windows = new PartitionWindows(settings);
        const emitted = events.flatMap((event) => windows.step(event).emitted);
        const keys = emitted.map((row) => `${row.windowStart}|${row.dim}|${row.key}`);
        expect(new Set(keys).size).toBe(keys.length);
      }),
    );
  });

  it('never loses an event: counted + late windows = all windows of all events, once everything is closed', () => {
    fc.assert(
      fc.property(settingsArbitrary, fc.array(eventArbitrary, { maxLength: 60 }), (settings, events) => {
        const windows = new PartitionWindows(settings);
        let lateWindows = 0;
        const rows = events.flatMap((event) => {
          const result = windows.step(event);
          lateWindows += result.lateWindows;
          return result.emitted;
        });
        rows.push(...windows.closeAll());
        const counted = rows.filter((row) => row.dim === 'user').reduce((sum, row) => sum + row.count, 0);
        const all = events.reduce((sum, event) => sum + windowsOf(event.time, settings).length, 0);
        expect(counted + lateWindows).toBe(all);
      }),
    );
  });
});
