import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkTemplate } from './event-template.js';

const schema = readFileSync(new URL('../../schemas/events/v2.avsc', import.meta.url), 'utf8');

describe('checkTemplate (kappa ingest --template)', () => {
  it('accepts hello and a valid time, which becomes the fixed event time', () => {
    expect(checkTemplate({ hello: 'busan' }, schema, 'Asia/Seoul')).toEqual({ ok: true, fixedTime: undefined });
    expect(checkTemplate({ hello: 'busan', time: '2026-11-22 20:31:07' }, schema, 'Asia/Seoul')).toEqual({
      ok: true,
      fixedTime: Date.UTC(2026, 10, 22, 11, 31, 7),
    });
  });

  it('refuses fields the generator owns or the schema lacks', () => {
    expect(checkTemplate({ id: 5 }, schema, 'UTC')).toEqual({
      ok: false,
      problem: 'invalid --template: id is not a field the template may set (allowed: hello, time)',
    });
    expect(checkTemplate({ event_ts: 5, colour: 'red' }, schema, 'UTC')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('event_ts, colour are not fields the template may set') as unknown,
    });
  });

  it.each(['2026-02-30 10:00:00', '2026-13-01 10:00:00', '2026-01-01 24:00:00', '0050-01-01 10:00:00', 'soon', 42])(
    'refuses the time %j with the aggregator parser, naming the field',
    (time) => {
      expect(checkTemplate({ time }, schema, 'Asia/Seoul')).toEqual({
        ok: false,
        problem: `invalid --template: time ${JSON.stringify(time)} is not a valid event time (YYYY-MM-DD HH:mm:ss, a real date, years 1000-9999, in Asia/Seoul)`,
      });
    },
  );

  it('refuses a time more than max-future ahead of now (KAPPA_MAX_FUTURE)', () => {
    const now = Date.UTC(2026, 10, 22, 11, 31, 7);
    const bound = { now, maxFutureMs: 3_600_000 };
    expect(checkTemplate({ time: '2026-11-22 21:31:07' }, schema, 'Asia/Seoul', bound)).toMatchObject({ ok: true });
    expect(checkTemplate({ time: '9999-12-31 23:59:59' }, schema, 'Asia/Seoul', bound)).toEqual({
      ok: false,
      problem: expect.stringMatching(
        /^invalid --template: time "9999-12-31 23:59:59" in Asia\/Seoul: time is .* ahead of its record's timestamp/,
      ) as unknown,
    });
  });

  it('refuses values that do not fit the events schema', () => {
    expect(checkTemplate({ hello: 42 }, schema, 'UTC')).toEqual({
      ok: false,
      problem: 'invalid --template: its values do not fit the events schema (e.g. hello must be a string)',
    });
  });
});
