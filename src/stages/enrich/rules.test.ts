import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrich, invalidReason, UNKNOWN_DEPT, UNKNOWN_NAME, type EnrichmentTables } from './rules.js';
import { loadStaticTable, parseStaticTable } from './static-tables.js';

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

  it('flags events that cannot be enriched', () => {
    expect(invalidReason({ id: -1, hello: '', time: '2026-01-01 00:00:00' })).toMatch(/not a non-negative integer/);
    expect(invalidReason({ id: 1, hello: '', time: '2026-01-01T00:00:00Z' })).toMatch(/not YYYY-MM-DD HH:mm:ss/);
    expect(invalidReason({ id: 1, hello: '', time: '2026-01-01 00:00:00' })).toBeUndefined();
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
