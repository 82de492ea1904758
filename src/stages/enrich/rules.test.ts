import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrich, invalidReason, keysProblem, UNKNOWN_DEPT, UNKNOWN_NAME, type EnrichmentTables } from './rules.js';
import { loadStaticTable, parseStaticTable } from './static-tables.js';
import { parseEventTime } from '../../shared/event-time.js';

const tables: EnrichmentTables = {
  names: new Map([
    [0, 'Kim'],
    [1, 'Lee'],
    [2, 'Kim'],
  ]),
  depts: new Map([
    [0, 'Data'],
    [3, 'Growth'],
  ]),
  maleLabel: '남성',
  femaleLabel: '여성',
};

describe('enrich (SPEC §1.2)', () => {
  it('applies every rule to every id of a range', () => {
    for (let id = 0; id < 10_000; id += 1) {
      const out = enrich({ id, hello: 'ssm-seoul', time: '2026-11-22 20:31:07' }, tables);
      expect(out).toEqual({
        time: '2026-11-22 20:31:07',
        user_id: id % 10,
        user_name: tables.names.get(id % 10) ?? UNKNOWN_NAME,
        dept_name: tables.depts.get(id % 5) ?? UNKNOWN_DEPT,
        gender: id % 2 === 0 ? '남성' : '여성',
        age: (id % 100) + 1,
        hello: 'ssm-seoul',
        id,
      });
    }
  });

  it('keeps its ranges for any id: user_id 0-9, age 1-100, copies time, hello and id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.string(), (id, hello) => {
        const out = enrich({ id, hello, time: '2026-01-01 00:00:00', event_ts: null }, tables);
        expect(out.user_id).toBeGreaterThanOrEqual(0);
        expect(out.user_id).toBeLessThanOrEqual(9);
        expect(out.age).toBeGreaterThanOrEqual(1);
        expect(out.age).toBeLessThanOrEqual(100);
        expect([out.id, out.hello, out.time]).toEqual([id, hello, '2026-01-01 00:00:00']);
      }),
    );
  });

  it('uses the Unknown defaults for missing uids and dids (left outer join)', () => {
    expect(enrich({ id: 9, hello: '', time: '2026-01-01 00:00:00' }, tables)).toMatchObject({
      user_name: UNKNOWN_NAME,
      dept_name: UNKNOWN_DEPT,
    });
    expect(enrich({ id: 5, hello: '', time: '2026-01-01 00:00:00' }, tables)).toMatchObject({
      user_name: UNKNOWN_NAME,
      dept_name: 'Data',
    });
  });

  it('flags events that cannot be enriched, with the dead-letter reason', () => {
    expect(invalidReason({ id: -1, hello: '', time: '2026-01-01 00:00:00' })).toEqual({
      reason: 'invalid',
      detail: 'id -1 is not a non-negative integer',
    });
    expect(invalidReason({ id: 1, hello: '', time: '2026-01-01T00:00:00Z' })).toMatchObject({
      reason: 'invalid-time',
      detail: expect.stringMatching(/not YYYY-MM-DD HH:mm:ss/) as unknown,
    });
    expect(invalidReason({ id: 1, hello: '', time: '2026-01-01 00:00:00' })).toBeUndefined();
  });

  it('dead-letters a time more than max-future ahead of its record timestamp as future-time', () => {
    // 2026-11-22 20:31:07 in Seoul is 11:31:07 UTC.
    const stamped = (iso: string) => ({ timestampMs: Date.parse(iso), timeZone: 'Asia/Seoul', maxFutureMs: 3_600_000 });
    const event = { id: 1, hello: '', time: '2026-11-22 20:31:07' };
    expect(invalidReason(event, stamped('2026-11-22T10:31:07Z'))).toBeUndefined();
    expect(invalidReason(event, stamped('2026-11-22T10:31:06Z'))).toEqual({
      reason: 'future-time',
      detail: expect.stringMatching(/"2026-11-22 20:31:07" in Asia\/Seoul: time is 3601s ahead/) as unknown,
    });
    expect(invalidReason({ ...event, time: '9999-12-31 23:59:59' }, stamped('2026-11-22T10:31:07Z'))).toMatchObject({
      reason: 'future-time',
    });
    // The record timestamp decides, not the clock: an old record with an old time is fine today.
    expect(invalidReason({ ...event, time: '2001-01-01 00:00:00' }, stamped('2001-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('dead-letters times the aggregator cannot parse as invalid-time', () => {
    for (const time of [
      '2026-02-30 10:00:00',
      '2026-13-01 10:00:00',
      '2026-00-10 10:00:00',
      '2026-01-01 24:00:00',
      '2026-01-01 10:60:00',
      '2026-01-01 10:00:60',
      '2025-02-29 10:00:00',
      '0050-01-01 10:00:00',
      '2026-01-01 10:00:00 ',
      'soon',
      '',
    ]) {
      expect(invalidReason({ id: 1, hello: '', time }), time).toMatchObject({ reason: 'invalid-time' });
    }
    for (const time of ['2024-02-29 10:00:00', '2026-12-31 23:59:59', '1000-01-01 00:00:00', '2026-03-08 02:30:00'])
      expect(invalidReason({ id: 1, hello: '', time }), time).toBeUndefined();
  });

  it('accepts exactly the times the aggregator parses, in any zone', () => {
    const digits = (n: number) => fc.integer({ min: 0, max: 10 ** n - 1 }).map((v) => String(v).padStart(n, '0'));
    const nearlyTimes = fc
      .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2))
      .map(([y, mo, d, h, mi, s]) => `${y}-${mo}-${d} ${h}:${mi}:${s}`);
    fc.assert(
      fc.property(
        fc.oneof(nearlyTimes, fc.string()),
        fc.constantFrom('UTC', 'Asia/Seoul', 'America/New_York'),
        (time, zone) => {
          const valid = invalidReason({ id: 1, hello: '', time }) === undefined;
          expect(valid).toBe(parseEventTime(time, zone) !== undefined);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('static tables', () => {
  it('ship defaults with at least one uid and one did missing', async () => {
    const names = await loadStaticTable(fileURLToPath(new URL('../../../data/names.jsonl', import.meta.url)), 'uid');
    const depts = await loadStaticTable(fileURLToPath(new URL('../../../data/depts.jsonl', import.meta.url)), 'did');
    expect([...Array(10).keys()].some((uid) => !names.has(uid))).toBe(true);
    expect([...Array(5).keys()].some((did) => !depts.has(did))).toBe(true);
    expect(names.size).toBeGreaterThan(0);
  });

  it('parse JSON lines, skipping blank lines', () => {
    expect(parseStaticTable('{"uid":0,"name":"A"}\n\n{"uid":3,"name":"B"}\n', 'uid', 'f')).toEqual(
      new Map([
        [0, 'A'],
        [3, 'B'],
      ]),
    );
  });

  it.each([
    ['{"uid":0,"name":"A"}\n{oops', 'names.jsonl:2: not JSON'],
    ['{"uid":"0","name":"A"}', 'names.jsonl:1: expected {"uid": <integer>, "name": "<text>"}'],
    ['{"uid":1}', 'names.jsonl:1: expected'],
    ['[1,2]', 'names.jsonl:1: expected'],
    ['{"uid":1,"name":"A"}\n{"uid":1,"name":"B"}', 'names.jsonl:2: uid 1 appears twice'],
  ])('refuse a malformed file naming file and line: %j', (text, message) => {
    expect(() => parseStaticTable(text, 'uid', 'names.jsonl')).toThrow(message);
  });

  it('refuse a missing file', async () => {
    await expect(loadStaticTable('/nonexistent/names.jsonl', 'uid')).rejects.toThrow(/names\.jsonl: cannot read it/);
  });
});

describe('keysProblem', () => {
  const tables = { names: new Map([[0, 'K'.repeat(192)]]), depts: new Map(), maleLabel: 'M', femaleLabel: 'F' };

  it('refuses a key longer than its column (191 characters), counting characters, not bytes', () => {
    expect(keysProblem(enrich({ id: 0, hello: 'x', time: '2026-11-22 20:31:07' }, tables))).toEqual({
      reason: 'key-too-long',
      detail: 'the user key is 192 characters long; its column holds 191',
    });
    const korean = { ...tables, names: new Map([[0, '김'.repeat(191)]]) };
    expect(keysProblem(enrich({ id: 0, hello: 'x', time: '2026-11-22 20:31:07' }, korean))).toBeUndefined();
    expect(keysProblem(enrich({ id: 1, hello: 'x', time: '2026-11-22 20:31:07' }, tables))).toBeUndefined();
  });
});
