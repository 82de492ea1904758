import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../src/api/server.js';
import { REGISTRY_CONTENT_TYPE } from '../src/registry/http-app.js';
import type { RunningRegistry } from '../src/registry/server.js';
import { useTestContext } from './support/context.js';
import { startTestRegistry } from './support/registry.js';

/**
 * Issue 22: random JSON posted to the registry's write routes and to `POST /api/events` never
 * gets a 500 — every answer is a 2xx or a 4xx with the route's error shape. Against a real
 * registry (its log on the run's broker) and a real API (MariaDB, Kafka, HTTP ingest), by inject.
 */
const context = useTestContext('hostile-json');
let registry: RunningRegistry;
let api: RunningApi;

beforeAll(async () => {
  registry = await startTestRegistry(context);
  api = await startApi({
    brokers: context.brokers,
    registryUrl: registry.url,
    mysqlUrl: context.mysqlUrl,
    topicEvents: context.topic('events'),
    topicStages: context.topic('events_stages'),
    topicPartitions: 3,
    topicReplicationFactor: 1,
    schemasDir: new URL('../schemas', import.meta.url).pathname,
    timeZone: 'Asia/Seoul',
    host: '127.0.0.1',
    port: 0,
    token: '',
    requestRateLimit: 0,
    ingestRateLimit: 0,
    logger: context.logger,
  });
}, 120_000);
afterAll(async () => {
  await api.close();
  await registry.close();
});

/** Any JSON, plus shapes close to what the routes expect (so validation goes deeper than the first check). */
const anyJson = fc.jsonValue({ maxDepth: 4 });
const eventLike = fc.dictionary(
  fc.constantFrom('hello', 'time', 'uid', 'did', 'age', 'id', 'event_ts', 'extra', ''),
  fc.oneof(anyJson, fc.constantFrom('2026-12-05 10:00:00', '9999-12-31 23:59:59', '', 'ssm-seoul')),
);
const eventsBody = fc.oneof(
  anyJson,
  fc.record({ events: fc.oneof(anyJson, fc.array(fc.oneof(eventLike, anyJson), { maxLength: 5 })) }),
);
const schemaLike = fc.oneof(
  anyJson,
  fc.record(
    {
      schema: fc.oneof(
        fc.string(),
        anyJson.map((value) => JSON.stringify(value)),
        fc.constant('{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}'),
      ),
      schemaType: fc.oneof(fc.constantFrom('AVRO', 'JSON', 'PROTOBUF', 'avro'), anyJson),
      references: anyJson,
      metadata: anyJson,
      compatibility: fc.oneof(fc.constantFrom('BACKWARD', 'NONE', 'FULL_TRANSITIVE', 'nope'), anyJson),
    },
    { requiredKeys: [] },
  ),
);
const subject = fc.oneof(fc.constantFrom('fuzz-value', 'events-value'), fc.string({ minLength: 1, maxLength: 20 }));

describe('random JSON never gets a 500', () => {
  it('POST /api/events', async () => {
    await fc.assert(
      fc.asyncProperty(eventsBody, async (body) => {
        const response = await api.app.inject({
          method: 'POST',
          url: '/api/events',
          payload: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
        expect(response.statusCode, `${JSON.stringify(body)} → ${response.body}`).toBeLessThan(500);
        if (response.statusCode >= 400) expect(response.json<{ code: string }>().code).toMatch(/^KAPPA_/);
      }),
      { numRuns: 150 },
    );
  }, 300_000);

  it("the registry's write routes", async () => {
    const routes = fc.constantFrom(
      (s: string) => ['POST', `/subjects/${encodeURIComponent(s)}/versions`] as const,
      (s: string) => ['POST', `/subjects/${encodeURIComponent(s)}`] as const,
      (s: string) => ['POST', `/compatibility/subjects/${encodeURIComponent(s)}/versions/latest`] as const,
      (s: string) => ['PUT', `/config/${encodeURIComponent(s)}`] as const,
      () => ['PUT', '/config'] as const,
      (s: string) => ['PUT', `/mode/${encodeURIComponent(s)}`] as const,
    );
    await fc.assert(
      fc.asyncProperty(routes, subject, schemaLike, async (route, name, body) => {
        const [method, url] = route(name);
        const response = await registry.app.inject({
          method,
          url,
          payload: JSON.stringify(body),
          headers: { 'content-type': REGISTRY_CONTENT_TYPE },
        });
        expect(response.statusCode, `${method} ${url} ${JSON.stringify(body)} → ${response.body}`).toBeLessThan(500);
        if (response.statusCode >= 400)
          expect(typeof response.json<{ error_code: unknown }>().error_code).toBe('number');
      }),
      { numRuns: 300 },
    );
    // Whatever was registered or configured, the global level is put back for other tests' sake.
    await registry.app.inject({ method: 'PUT', url: '/config', payload: { compatibility: 'BACKWARD' } });
  }, 300_000);
});
