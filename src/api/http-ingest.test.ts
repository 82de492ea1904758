import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAvro } from '../registry/avro-schema.js';
import { prepareEvents } from './http-ingest.js';

const SCHEMA = readFileSync(new URL('../../schemas/events/v2.avsc', import.meta.url), 'utf8');
const TYPE = parseAvro(SCHEMA);
const FIELDS = new Set(['id', 'hello', 'time', 'event_ts']);
/** 2026-11-22 20:31:07.400 in Seoul: the instant the records are produced. */
const NOW = Date.parse('2026-11-22T11:31:07.400Z');
const HOUR = 3_600_000;

const prepare = (events: Record<string, unknown>[]) => prepareEvents(TYPE, FIELDS, events, 'Asia/Seoul', NOW, HOUR);

describe('prepareEvents (POST /api/events)', () => {
  it('produces with the timestamp it checked against; time defaults to now, event_ts follows time', () => {
    expect(prepare([{}, { time: '2026-11-22 21:31:07' }])).toEqual({
      records: [
        { hello: 'ssm-seoul', id: 0, time: '2026-11-22 20:31:07', event_ts: Date.parse('2026-11-22T11:31:07Z') },
        { hello: 'ssm-seoul', id: 0, time: '2026-11-22 21:31:07', event_ts: Date.parse('2026-11-22T12:31:07Z') },
      ],
      timestampMs: NOW,
    });
  });

  it('refuses a time more than max-future ahead of the record timestamp, naming the field', () => {
    expect(prepare([{}, { time: '9999-12-31 23:59:59' }])).toEqual({
      problem: {
        field: 'events[1].time',
        message: expect.stringMatching(
          /ahead of its record's timestamp 2026-11-22T11:31:07.400Z: at most 3600s/,
        ) as unknown,
      },
    });
    expect(prepare([{ time: '2026-11-22 21:31:08' }])).toMatchObject({ problem: { field: 'events[0].time' } });
  });

  it('never lets a client set event_ts apart from time', () => {
    expect(prepare([{ time: '2026-11-22 20:00:00', event_ts: 253_402_300_799_000 }])).toEqual({
      problem: { field: 'events[0].event_ts', message: expect.stringMatching(/follows time/) as unknown },
    });
    expect(prepare([{ event_ts: 0 }])).toMatchObject({ problem: { field: 'events[0].event_ts' } });
    // The same instant is harmless.
    const same = Date.parse('2026-11-22T11:00:00Z');
    expect(prepare([{ time: '2026-11-22 20:00:00', event_ts: same }])).toMatchObject({
      records: [{ event_ts: same }],
    });
  });
});
