import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawExchange } from '../../test/support/raw-http.js';
import { buildRegistryApp, REGISTRY_BODY_LIMIT, REGISTRY_CONTENT_TYPE } from './http-app.js';
import { parseVersion } from './http-routes.js';
import { MemorySchemaLog, RegistryService } from './registry-service.js';

const v1 = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'long' }] });
const v2 = JSON.stringify({
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'tag', type: ['null', 'string'], default: null },
  ],
});
const incompatible = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'string' }] });

let app: FastifyInstance;

beforeEach(() => {
  const log = new MemorySchemaLog();
  const service = new RegistryService(log, { timeoutMs: 2_000 });
  log.subscribe((offset, record) => service.onRecord(offset, record));
  app = buildRegistryApp({ service });
});
afterEach(() => app.close());

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: { 'content-type': REGISTRY_CONTENT_TYPE },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: response.statusCode, body: response.json<unknown>(), type: response.headers['content-type'] };
}

describe('schema registry REST API (Confluent subset)', () => {
  it('reads a body over its limit to the end, answers 413 and keeps the connection', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const exchange = await rawExchange(port, {
      path: '/subjects/big-value/versions',
      length: REGISTRY_BODY_LIMIT + 50_000,
      contentType: REGISTRY_CONTENT_TYPE,
      then: '/subjects',
    });
    expect(exchange.writeError).toBeUndefined();
    expect(exchange.statuses).toEqual([413, 200]);
    expect(exchange.text).toContain('"error_code":413');
  });

  it('registers, lists and fetches, answering in the registry content type', async () => {
    expect(await call('POST', '/subjects/events-value/versions', { schema: v1 })).toEqual({
      status: 200,
      body: { id: 1 },
      type: REGISTRY_CONTENT_TYPE,
    });
    expect(
      (
        await call('POST', '/subjects/events-value/versions', {
          schema: v2,
          schemaType: 'AVRO',
          references: [],
          metadata: null,
          ruleSet: null,
        })
      ).body,
    ).toEqual({ id: 2 });
    expect((await call('GET', '/subjects')).body).toEqual(['events-value']);
    expect((await call('GET', '/subjects/events-value/versions')).body).toEqual([1, 2]);
    const latest = (await call('GET', '/subjects/events-value/versions/latest')).body as { schema: string };
    expect(latest).toMatchObject({ subject: 'events-value', id: 2, version: 2 });
    expect(JSON.parse(latest.schema)).toEqual(JSON.parse(v2));
    expect((await call('GET', '/subjects/events-value/versions/-1')).body).toMatchObject({ version: 2 });
    expect((await call('GET', '/subjects/events-value/versions/1')).body).toMatchObject({ id: 1, version: 1 });
    const byId = (await call('GET', '/schemas/ids/1')).body as { schema: string };
    expect(JSON.parse(byId.schema)).toEqual(JSON.parse(v1));
    expect((await call('GET', '/schemas/ids/1?subject=&format=')).status).toBe(200);
    expect((await call('GET', '/schemas/ids/2/versions')).body).toEqual([{ subject: 'events-value', version: 2 }]);
    expect((await call('GET', '/schemas/types')).body).toEqual(['AVRO']);
    expect((await call('GET', '/')).body).toEqual({});
  });

  it('looks a schema up under a subject', async () => {
    await call('POST', '/subjects/events-value/versions', { schema: v1 });
    expect((await call('POST', '/subjects/events-value?normalize=false', { schema: v1 })).body).toMatchObject({
      subject: 'events-value',
      id: 1,
      version: 1,
    });
    expect(await call('POST', '/subjects/events-value', { schema: v2 })).toMatchObject({
      status: 404,
      body: { error_code: 40403 },
    });
    expect(await call('POST', '/subjects/nope', { schema: v1 })).toMatchObject({
      status: 404,
      body: { error_code: 40401, message: "Subject 'nope' not found." },
    });
  });

  it('answers Confluent error codes', async () => {
    await call('POST', '/subjects/events-value/versions', { schema: v1 });
    expect(await call('POST', '/subjects/events-value/versions', { schema: incompatible })).toMatchObject({
      status: 409,
      body: { error_code: 409 },
    });
    expect(await call('POST', '/subjects/events-value/versions', { schema: '{"type":"nope"}' })).toMatchObject({
      status: 422,
      body: { error_code: 42201 },
    });
    expect(await call('POST', '/subjects/events-value/versions', { schema: v1, schemaType: 'PROTOBUF' })).toMatchObject(
      { status: 422, body: { error_code: 42201 } },
    );
    expect(await call('POST', '/subjects/events-value/versions', {})).toMatchObject({ status: 422 });
    expect(await call('GET', '/subjects/events-value/versions/0')).toMatchObject({
      status: 422,
      body: { error_code: 42202 },
    });
    expect(await call('GET', '/subjects/events-value/versions/abc')).toMatchObject({
      status: 422,
      body: { error_code: 42202 },
    });
    expect(await call('GET', '/subjects/events-value/versions/9')).toMatchObject({
      status: 404,
      body: { error_code: 40402 },
    });
    expect(await call('GET', '/subjects/other/versions')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect(await call('GET', '/schemas/ids/77')).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await call('GET', '/schemas/ids/x')).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await call('PUT', '/config', { compatibility: 'SIDEWAYS' })).toMatchObject({
      status: 422,
      body: { error_code: 42203 },
    });
    expect(
      await call('GET', '/associations/resources/-/events?resourceType=topic&associationType=value'),
    ).toMatchObject({ status: 404 });
  });

  it('reads and writes compatibility levels the way both clients expect', async () => {
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await call('GET', '/config/events-value')).toMatchObject({ status: 404, body: { error_code: 40408 } });
    expect((await call('GET', '/config/events-value?defaultToGlobal=true')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    expect((await call('PUT', '/config/events-value', { compatibility: 'full_transitive' })).body).toEqual({
      compatibility: 'FULL_TRANSITIVE',
    });
    expect((await call('GET', '/config/events-value')).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    expect((await call('PUT', '/config', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('DELETE', '/config/events-value')).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    expect(await call('GET', '/config/events-value')).toMatchObject({ status: 404 });
  });

  it('checks compatibility without registering', async () => {
    expect((await call('POST', '/compatibility/subjects/new/versions/latest', { schema: incompatible })).body).toEqual({
      is_compatible: true,
    });
    await call('POST', '/subjects/events-value/versions', { schema: v1 });
    expect((await call('POST', '/compatibility/subjects/events-value/versions/latest', { schema: v2 })).body).toEqual({
      is_compatible: true,
    });
    const verdict = (
      await call('POST', '/compatibility/subjects/events-value/versions/1?verbose=true', { schema: incompatible })
    ).body as { is_compatible: boolean; messages: string[] };
    expect(verdict.is_compatible).toBe(false);
    expect(verdict.messages[0]).toContain('field Event.id');
    expect((await call('GET', '/subjects/events-value/versions')).body).toEqual([1]);
  });

  it('soft-deletes subjects; a permanent delete forgets the versions but never the ids', async () => {
    await call('POST', '/subjects/events-value/versions', { schema: v1 });
    expect(await call('DELETE', '/subjects/events-value?permanent=true')).toMatchObject({
      status: 404,
      body: { error_code: 40405 },
    });
    expect((await call('DELETE', '/subjects/events-value?permanent=false')).body).toEqual([1]);
    expect((await call('GET', '/subjects')).body).toEqual([]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual(['events-value']);
    expect((await call('GET', '/subjects/events-value/versions/1?deleted=true')).body).toMatchObject({ id: 1 });
    expect((await call('POST', '/subjects/events-value?deleted=true', { schema: v1 })).body).toMatchObject({ id: 1 });
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200);
    expect(await call('DELETE', '/subjects/events-value')).toMatchObject({ status: 404, body: { error_code: 40404 } });
    expect((await call('DELETE', '/subjects/events-value?permanent=true')).body).toEqual([1]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200);
    expect(await call('DELETE', '/subjects/events-value')).toMatchObject({ status: 404, body: { error_code: 40401 } });
  });

  it('refuses an unparseable body with a JSON error', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/subjects/s/versions',
      headers: { 'content-type': REGISTRY_CONTENT_TYPE },
      payload: '{oops',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error_code: 400 });
  });
});

describe('parseVersion', () => {
  it('accepts latest, -1 and 1 … 2^31-1', () => {
    expect(parseVersion('latest')).toBe('latest');
    expect(parseVersion('-1')).toBe('latest');
    expect(parseVersion('LATEST')).toBe('latest');
    expect(parseVersion(' 7 ')).toBe(7);
    expect(parseVersion('1')).toBe(1);
    expect(parseVersion(String(2 ** 31 - 1))).toBe(2 ** 31 - 1);
    for (const bad of ['0', '-2', String(2 ** 31), '1.5', 'newest', ''])
      expect(() => parseVersion(bad)).toThrow(/not a valid version id/);
  });
});
