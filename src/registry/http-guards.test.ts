import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRegistryApp, REGISTRY_CONTENT_TYPE, type RegistryAppOptions } from './http-app.js';
import { MemorySchemaLog, RegistryService } from './registry-service.js';

/** Who may write to the registry, how much, from where (issue 22). */
const TOKEN = 'registry-token-0123456789';
const schema = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'long' }] });
let app: FastifyInstance | undefined;

function build(options: Partial<RegistryAppOptions> = {}): FastifyInstance {
  const log = new MemorySchemaLog();
  const service = new RegistryService(log, { timeoutMs: 2_000 });
  log.subscribe((offset, record) => service.onRecord(offset, record));
  app = buildRegistryApp({ service, ...options });
  return app;
}
afterEach(() => app?.close());

function call(
  target: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  options: { body?: unknown; token?: string; host?: string; raw?: string } = {},
) {
  return target.inject({
    method,
    url,
    headers: {
      'content-type': REGISTRY_CONTENT_TYPE,
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.host === undefined ? {} : { host: options.host }),
    },
    ...(options.raw !== undefined
      ? { payload: options.raw }
      : options.body === undefined
        ? {}
        : { payload: JSON.stringify(options.body) }),
  });
}

describe('registry writes need the token when one is set', () => {
  it.each([
    ['POST', '/subjects/s-value/versions', { schema }],
    ['DELETE', '/subjects/s-value', undefined],
    ['DELETE', '/subjects/s-value/versions/1?permanent=true', undefined],
    ['PUT', '/config', { compatibility: 'NONE' }],
    ['PUT', '/config/s-value', { compatibility: 'NONE' }],
    ['DELETE', '/config/s-value', undefined],
  ] as const)('%s %s without a token, with a wrong one or a non-ASCII one: 401', async (method, url, body) => {
    const registry = build({ writeToken: TOKEN });
    for (const token of [undefined, 'wrong-token-0123456789abc', 'é'.repeat(TOKEN.length)]) {
      const response = await call(registry, method, url, { body, ...(token === undefined ? {} : { token }) });
      expect(response.statusCode, `${token}`).toBe(401);
      expect(response.json()).toMatchObject({ error_code: 40101 });
    }
  });

  it('accepts writes with the token; reads stay open', async () => {
    const registry = build({ writeToken: TOKEN });
    const registered = await call(registry, 'POST', '/subjects/s-value/versions', { body: { schema }, token: TOKEN });
    expect(registered.json()).toEqual({ id: 1 });
    expect((await call(registry, 'GET', '/subjects')).json()).toEqual(['s-value']);
    expect((await call(registry, 'GET', '/schemas/ids/1')).statusCode).toBe(200);
    expect((await call(registry, 'GET', '/config')).statusCode).toBe(200);
  });

  it('refuses a write before reading its body: a large body without a token is a 401', async () => {
    const registry = build({ writeToken: TOKEN });
    const big = JSON.stringify({ schema: 'x'.repeat(3 * 1024 * 1024) });
    const response = await call(registry, 'POST', '/subjects/s-value/versions', { raw: big });
    expect(response.statusCode).toBe(401);
  });

  it('is open on loopback without a token (what `kappa up` runs)', async () => {
    const registry = build();
    expect((await call(registry, 'POST', '/subjects/s-value/versions', { body: { schema } })).statusCode).toBe(200);
  });
});

describe('registry limits', () => {
  it('refuses a body over 1 MiB with 413 before parsing it', async () => {
    const registry = build({ writeToken: TOKEN });
    const response = await call(registry, 'POST', '/subjects/s-value/versions', {
      raw: JSON.stringify({ schema: 'x'.repeat(1024 * 1024) }),
      token: TOKEN,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error_code: 413 });
  });

  it('on loopback serves only loopback Host headers (DNS rebinding)', async () => {
    const registry = build();
    for (const host of ['evil.example.com', 'evil.example.com:8081', '127.0.0.1.nip.io']) {
      const read = await call(registry, 'GET', '/subjects', { host });
      expect(read.statusCode, host).toBe(421);
      expect(read.json()).toMatchObject({ error_code: 421 });
      const write = await call(registry, 'POST', '/subjects/s-value/versions', { body: { schema }, host });
      expect(write.statusCode, host).toBe(421);
    }
    for (const host of ['127.0.0.1:8081', 'localhost:8081', '[::1]:8081'])
      expect((await call(registry, 'GET', '/subjects', { host })).statusCode, host).toBe(200);
    const open = build({ loopbackHostsOnly: false, writeToken: TOKEN });
    expect((await call(open, 'GET', '/subjects', { host: 'registry.example.com' })).statusCode).toBe(200);
  });

  it('limits requests per client before the token check', async () => {
    const registry = build({ writeToken: TOKEN, requestsPerMinute: 2 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1)
      statuses.push(
        (await call(registry, 'DELETE', '/subjects/s-value', { token: 'wrong-token-0123456789abc' })).statusCode,
      );
    expect(statuses).toEqual([401, 401, 429, 429]);
  });

  it('sets a request timeout and a headers timeout', () => {
    const registry = build();
    expect(registry.server.requestTimeout).toBeGreaterThan(0);
    expect(registry.server.headersTimeout).toBeGreaterThan(0);
  });
});
