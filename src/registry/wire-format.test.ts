import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaContextError } from '../shared/errors.js';
import { AvroDecoder } from './avro-decoder.js';
import { parseAvro } from './avro-schema.js';
import { encodeWithSchemaId, schemaIdOf } from './wire-format.js';

const stagesSchema = readFileSync(new URL('../../schemas/events_stages/v1.avsc', import.meta.url), 'utf8');
const stagesType = parseAvro(stagesSchema);

/** The wire format spelled out: magic byte, big-endian schema id, `toBuffer`'s Avro binary. */
function reference(schemaId: number, value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, stagesType.toBuffer(value)]);
}

const enriched = (text: fc.Arbitrary<string>) =>
  fc.record({
    time: text,
    user_id: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    user_name: text,
    dept_name: text,
    gender: text,
    age: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    hello: text,
    // avsc's long holds ±(2^53 − 2) (`isSafeLong`): ±Number.MAX_SAFE_INTEGER is no Avro long to it.
    id: fc.maxSafeInteger().filter((n) => Math.abs(n) < Number.MAX_SAFE_INTEGER),
  });

describe('encodeWithSchemaId', () => {
  it('writes exactly the reference bytes, record after record', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), enriched(fc.string({ unit: 'grapheme' })))),
        (records) => {
          // Encoded one after another: no record may see bytes of the previous one.
          const ours = records.map(([id, value]) => encodeWithSchemaId(id, stagesType, value));
          records.forEach(([id, value], index) => {
            expect(ours[index]?.equals(reference(id, value))).toBe(true);
            expect(schemaIdOf(ours[index] as Buffer)).toBe(id);
          });
        },
      ),
    );
  });

  it('encodes records larger than its scratch buffer, and smaller ones after them', () => {
    const big = { ...sample(), hello: 'x'.repeat(200_000), user_name: '가'.repeat(50_000) };
    // Buffer.equals: a byte-wise toEqual of 350 kB takes seconds.
    expect(encodeWithSchemaId(7, stagesType, big).equals(reference(7, big))).toBe(true);
    expect(encodeWithSchemaId(8, stagesType, sample()).equals(reference(8, sample()))).toBe(true);
    expect(encodeWithSchemaId(9, stagesType, big).equals(reference(9, big))).toBe(true);
  });
});

function sample() {
  return {
    time: '2026-11-29 10:00:00',
    user_id: 3,
    user_name: 'Kim',
    dept_name: 'Data',
    gender: 'M',
    age: 14,
    hello: 'world',
    id: 13,
  };
}

describe('AvroDecoder.decodeSync', () => {
  let server: Server;
  let url: string;
  let asked7 = 0;
  beforeAll(async () => {
    // A registry answering one schema id, as GET /schemas/ids/:id does.
    server = createServer((request, response) => {
      // Id 7 is registered on its third request: a registry still loading its log.
      if (request.url === '/schemas/ids/7') asked7 += 1;
      const found = request.url === '/schemas/ids/5' || (request.url === '/schemas/ids/7' && asked7 >= 3);
      response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      response.end(found ? JSON.stringify({ schema: stagesSchema }) : JSON.stringify({ error_code: 40403 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('decodes what encodeWithSchemaId wrote, and refuses truncated or trailing bytes', async () => {
    const decoder = new AvroDecoder(url, stagesSchema);
    const payload = encodeWithSchemaId(5, stagesType, sample());
    const truncated = payload.subarray(0, payload.length - 1);
    const trailing = Buffer.concat([payload, Buffer.from([0])]);
    await decoder.prepare([payload, truncated, trailing]);
    expect(decoder.decodeSync(payload)).toEqual({ ok: true, value: sample(), schemaId: 5 });
    expect(decoder.decodeSync(truncated)).toMatchObject({ ok: false, reason: 'undecodable' });
    expect(decoder.decodeSync(trailing)).toMatchObject({
      ok: false,
      reason: 'undecodable',
      detail: 'schema id 5: trailing data',
    });
    // A payload inside a larger buffer (as kafkajs hands out record values) decodes the same.
    const inside = Buffer.concat([Buffer.from('prefix'), payload, Buffer.from('suffix')]);
    expect(decoder.decodeSync(inside.subarray(6, 6 + payload.length))).toEqual({
      ok: true,
      value: sample(),
      schemaId: 5,
    });
  });

  const quickly = { attempts: 4, sleep: () => Promise.resolve() };

  it('asks again for a schema id the registry does not know yet, and finds it once registered', async () => {
    const decoder = new AvroDecoder(url, stagesSchema, quickly);
    const payload = encodeWithSchemaId(7, stagesType, sample());
    await decoder.prepare([payload]);
    expect(decoder.decodeSync(payload)).toEqual({ ok: true, value: sample(), schemaId: 7 });
    expect(asked7).toBe(3);
  });

  it('stops with KAPPA_SCHEMA_NOT_FOUND naming the id and the registry (password masked), never a bad record', async () => {
    const secret = url.replace('http://', 'http://kappa:S3cret@');
    const decoder = new AvroDecoder(secret, stagesSchema, quickly);
    const payload = encodeWithSchemaId(6, stagesType, sample());
    const failure = decoder.prepare([payload]).then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = (await failure) as KafkaContextError;
    expect(error).toBeInstanceOf(KafkaContextError);
    expect(error).toMatchObject({ code: 'KAPPA_SCHEMA_NOT_FOUND', retriable: false, schemaId: 6 });
    expect(error.message).toContain('schema id 6');
    expect(error.message).toContain(url.replace('http://', 'http://kappa:***@'));
    expect(error.message).not.toContain('S3cret');
    await expect(decoder.decode(payload)).rejects.toMatchObject({ code: 'KAPPA_SCHEMA_NOT_FOUND' });
  });
});
