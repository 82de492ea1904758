import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WindowSettings } from '../model/window-settings.js';
import type { VersionStatus } from '../recovery/operations.js';
import { KappaError } from '../shared/errors.js';
import { rawExchange } from '../../test/support/raw-http.js';
import { buildApiApp, type ApiDependencies } from './app.js';
import { createApiMetrics } from './metrics.js';
import type { ApiReads, TopQuery, WindowQuery } from './queries.js';
import { RequestError } from './request-error.js';

/** The routes on fake storage and operations: no MySQL, no Kafka. */
function fakes(options: { serving?: string; settings?: Record<string, WindowSettings> } = {}) {
  const windowQueries: WindowQuery[] = [];
  const topQueries: TopQuery[] = [];
  const settings = options.settings ?? { v1: { sizeMs: 10_000, slideMs: 10_000, delayMs: 15_000 } };
  const reads: ApiReads = {
    windows: (query) => {
      windowQueries.push(query);
      const version = query.version ?? options.serving;
      if (version === undefined)
        return Promise.reject(new RequestError('KAPPA_NO_SERVING_VERSION', 'nothing serves', 'version'));
      return Promise.resolve({
        version,
        rows: [
          {
            window_start: '2026-11-24T00:00:00.000Z',
            window_end: '2026-11-24T00:00:10.000Z',
            key: '42',
            count: 3,
            idle_closed: false,
          },
        ],
      });
    },
    // No stamp: every read reads the rows (the stamped path has its own test below).
    windowsStamp: () => Promise.resolve(undefined),
    servingVersion: () => Promise.resolve(options.serving),
    settingsOf: (version) => Promise.resolve(settings[version]),
    topUsers: (query) => {
      topQueries.push(query);
      return Promise.resolve([{ user_name: 'Kim', count: 7 }]);
    },
    ping: () => Promise.resolve(),
  };
  const ingested: unknown[] = [];
  const deps = (extra: Partial<ApiDependencies> = {}): ApiDependencies => ({
    reads,
    operations: {
      versions: () => Promise.resolve([] as VersionStatus[]),
      cutover: (to) =>
        to === 'v9'
          ? Promise.reject(new KappaError('KAPPA_CUTOVER_REFUSED', 'v9 has not caught up'))
          : Promise.resolve({ from: options.serving, to, unchanged: false }),
      rollback: () => Promise.reject(new KappaError('KAPPA_ROLLBACK_REFUSED', 'nothing to roll back to')),
    },
    ingest: () =>
      Promise.resolve({
        prepare: (events) => ({ records: events.map((event) => ({ ...event })), timestampMs: 0 }),
        write: (records) => {
          ingested.push(...records);
          return Promise.resolve({ first: 0, last: records.length - 1 });
        },
        writeKeyed: (_key, events) => {
          ingested.push(...events);
          return Promise.resolve({ first: 0, last: events.length - 1, written: events.length });
        },
      }),
    readiness: { kafka: () => Promise.resolve(), registry: () => Promise.resolve(), mysql: () => Promise.resolve() },
    metrics: createApiMetrics(() => Promise.resolve({ topics: {}, enrichLag: 0, versions: [] })),
    token: 'admin-token-0123456789',
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  return { deps, windowQueries, topQueries, ingested };
}

describe('window routes', () => {
  it('404 naming version while nothing serves', async () => {
    const app = await buildApiApp(fakes().deps());
    const response = await app.inject('/api/windows/users');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'KAPPA_NO_SERVING_VERSION',
      message: 'nothing serves',
      field: 'version',
    });
  });

  it('reads the serving version when none is asked for, the one asked for otherwise', async () => {
    const { deps, windowQueries } = fakes({ serving: 'v2' });
    const app = await buildApiApp(deps());
    expect((await app.inject('/api/windows/users')).json()).toMatchObject({ version: 'v2', dim: 'users' });
    expect((await app.inject('/api/windows/depts?version=v1&limit=5')).json()).toMatchObject({ version: 'v1' });
    expect(windowQueries).toEqual([
      { dim: 'user', limit: 1_000 },
      { dim: 'dept', limit: 5, version: 'v1' },
    ]);
  });

  it.each(['abc', '1.5', '1e3', '99999999999', ' 4'])(
    'an age key %j is a 400 naming key, never a query',
    async (key) => {
      const { deps, windowQueries } = fakes({ serving: 'v1' });
      const app = await buildApiApp(deps());
      const response = await app.inject(`/api/windows/ages?key=${encodeURIComponent(key)}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'KAPPA_BAD_REQUEST', field: 'key' });
      expect(windowQueries).toEqual([]);
    },
  );

  it('an age key that is a number is passed as a number; other keys as text', async () => {
    const { deps, windowQueries } = fakes({ serving: 'v1' });
    const app = await buildApiApp(deps());
    expect((await app.inject('/api/windows/ages?key=42')).statusCode).toBe(200);
    expect((await app.inject('/api/windows/users?key=42')).statusCode).toBe(200);
    expect(windowQueries.map((query) => query.key)).toEqual([42, '42']);
  });

  it('shares one read among identical concurrent requests, but never the read running when one arrives', async () => {
    const { deps } = fakes();
    let serving = 'v1';
    const held: (() => void)[] = [];
    const queries: WindowQuery[] = [];
    const reads: ApiReads = {
      ...deps().reads,
      windows: (query) => {
        queries.push(query);
        const version = serving; // what the store holds when the read starts
        return new Promise((resolve) => held.push(() => resolve({ version, rows: [] })));
      },
    };
    const withReads = deps({ reads });
    const app = await buildApiApp(withReads);
    const until = async (check: () => boolean) => {
      while (!check()) await new Promise((resolve) => setImmediate(resolve));
    };
    const first = app.inject('/api/windows/users?limit=5');
    await until(() => held.length === 1);
    serving = 'v2'; // a cutover returns while the first read runs
    const later = [app.inject('/api/windows/users?limit=5'), app.inject('/api/windows/users?limit=5')];
    const other = app.inject('/api/windows/users?limit=6');
    await until(() => held.length === 2); // limit=6 is another read; the two later requests wait
    held.shift()?.();
    expect((await first).json()).toEqual({ version: 'v1', dim: 'users', rows: [] });
    await until(() => held.length === 2);
    held.splice(0).forEach((release) => release());
    for (const response of await Promise.all(later)) {
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.json()).toEqual({ version: 'v2', dim: 'users', rows: [] });
    }
    expect((await other).json()).toMatchObject({ version: 'v2' });
    expect(queries.map((query) => query.limit)).toEqual([5, 6, 5]);
    expect(await withReads.metrics.registry.getSingleMetricAsString('kappa_api_window_reads_total')).toMatch(
      /^kappa_api_window_reads_total 3$/m,
    );
  });

  it('reads and serialises the rows again only when the version or its commit stamp moved', async () => {
    const { deps } = fakes({ serving: 'v1' });
    let serving = 'v1';
    let commits = 0;
    const queries: WindowQuery[] = [];
    const reads: ApiReads = {
      ...deps().reads,
      windowsStamp: (version) => Promise.resolve({ version: version ?? serving, commits: String(commits) }),
      windows: (query) => {
        queries.push(query);
        const version = query.version ?? serving;
        return Promise.resolve({
          version,
          rows: [
            {
              window_start: '2026-11-24T00:00:00.000Z',
              window_end: '2026-11-24T00:00:10.000Z',
              key: 'Kim',
              count: commits,
              idle_closed: false,
            },
          ],
        });
      },
    };
    const app = await buildApiApp(deps({ reads }));
    const page = async (url = '/api/windows/users') => {
      const body = (await app.inject(url)).json<{ version: string; rows: { count: number }[] }>();
      return `${body.version}:${body.rows[0]?.count}`;
    };
    expect([await page(), await page()]).toEqual(['v1:0', 'v1:0']);
    expect(queries).toHaveLength(1);
    commits += 1;
    expect([await page(), await page()]).toEqual(['v1:1', 'v1:1']);
    serving = 'v2';
    expect(await page()).toBe('v2:1');
    expect(await page('/api/windows/users?version=v1')).toBe('v1:1');
    expect(await page('/api/windows/users?version=v1')).toBe('v1:1');
    expect(queries.map((query) => query.version)).toEqual([undefined, undefined, undefined, 'v1']);
  });

  it('from after to is a 400 naming from', async () => {
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps());
    const response = await app.inject('/api/windows/users?from=2026-11-22T12:00:00Z&to=2026-11-22T11:00:00Z');
    expect(response.json()).toMatchObject({ statusCode: 400, field: 'from' });
  });
});

describe('top users: each event counted once', () => {
  it('sums every window of a tumbling version', async () => {
    const { deps, topQueries } = fakes({ serving: 'v1' });
    const app = await buildApiApp(deps());
    expect((await app.inject('/api/top/users?n=3')).json()).toEqual({
      version: 'v1',
      users: [{ user_name: 'Kim', count: 7 }],
    });
    expect(topQueries).toEqual([{ version: 'v1', n: 3, recentMs: 86_400_000 }]);
  });

  it('sums only the windows aligned to the size of a hopping version whose slide divides the size', async () => {
    const { deps, topQueries } = fakes({
      serving: 'v2',
      settings: { v2: { sizeMs: 10_000, slideMs: 5_000, delayMs: 15_000 } },
    });
    const app = await buildApiApp(deps());
    expect((await app.inject('/api/top/users')).statusCode).toBe(200);
    expect(topQueries).toEqual([{ version: 'v2', n: 10, alignedToMs: 10_000, recentMs: 86_400_000 }]);
  });

  it('refuses a hopping version whose slide does not divide the size, saying why', async () => {
    const { deps, topQueries } = fakes({ settings: { v3: { sizeMs: 10_000, slideMs: 3_000, delayMs: 0 } } });
    const app = await buildApiApp(deps());
    const response = await app.inject('/api/top/users?version=v3');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'KAPPA_BAD_REQUEST', field: 'version' });
    expect(response.json<{ message: string }>().message).toMatch(/count each event in several windows/);
    expect(topQueries).toEqual([]);
  });

  it('404 for a version that does not exist', async () => {
    const app = await buildApiApp(fakes().deps());
    expect((await app.inject('/api/top/users?version=v7')).json()).toMatchObject({
      statusCode: 404,
      code: 'KAPPA_VERSION_UNKNOWN',
    });
  });
});

describe('admin routes', () => {
  const auth = { authorization: 'Bearer admin-token-0123456789' };
  it('need the token; refusals map to their codes’ statuses', async () => {
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps());
    const post = (url: string, body?: object, headers = {}) =>
      app.inject({ method: 'POST', url, headers, ...(body === undefined ? {} : { payload: body }) });
    expect((await post('/api/cutover', { to: 'v2' })).json()).toMatchObject({
      statusCode: 401,
      code: 'KAPPA_UNAUTHORIZED',
    });
    expect((await post('/api/cutover', { to: 'v2' }, auth)).json()).toEqual({ from: 'v1', to: 'v2', unchanged: false });
    expect((await post('/api/cutover', { to: 'v9' }, auth)).json()).toMatchObject({
      statusCode: 409,
      code: 'KAPPA_CUTOVER_REFUSED',
    });
    expect((await post('/api/rollback', undefined, auth)).json()).toMatchObject({
      statusCode: 409,
      code: 'KAPPA_ROLLBACK_REFUSED',
    });
  });
});

describe('versions route', () => {
  it("carries a candidate's plan (issue 26) through the response schema, whole", { timeout: 60_000 }, async () => {
    const plan = {
      records: 6_000,
      startedAt: '2026-12-05T08:00:00.000Z',
      ratePerSecond: 1_200,
      etaSeconds: 2.5,
      plannedAt: '2026-12-05T07:59:00.000Z',
      plannedRecords: 6_000,
      expectedLate: 3,
      comparedWith: 'v1',
      expectedRecovered: 41,
      estimateSeconds: 6.1,
    };
    const status: VersionStatus = {
      version: 'v2',
      state: 'catching-up',
      serving: false,
      topic: 'stages',
      settings: { sizeMs: 10_000, slideMs: 10_000, delayMs: 60_000 },
      dims: ['user'],
      lag: 3_000,
      processed: 3_000,
      watermark: null,
      lateEvents: 0,
      lateWindows: 0,
      badRecords: 0,
      tzVersion: null,
      plan,
    };
    const { deps } = fakes({ serving: 'v1' });
    const app = await buildApiApp(
      deps({ operations: { ...deps().operations, versions: () => Promise.resolve([status]) } }),
    );
    const body = (await app.inject('/api/versions')).json<{ versions: VersionStatus[] }>();
    expect(body.versions[0]?.plan).toEqual(plan);
  });
});

describe('ingest: who may write, how often', () => {
  const batch = { events: [{ hello: 'a' }] };
  it('is open without an ingest token (loopback), and needs the bearer token when one is set', async () => {
    const open = await buildApiApp(fakes().deps());
    expect((await open.inject({ method: 'POST', url: '/api/events', payload: batch })).statusCode).toBe(202);
    const { deps, ingested } = fakes();
    const guarded = await buildApiApp(deps({ ingestToken: 'ingest-token-0123456789' }));
    const denied = await guarded.inject({ method: 'POST', url: '/api/events', payload: batch });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toMatchObject({ code: 'KAPPA_UNAUTHORIZED' });
    const wrong = await guarded.inject({
      method: 'POST',
      url: '/api/events',
      payload: batch,
      headers: { authorization: 'Bearer admin-token-0123456789' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(ingested).toEqual([]);
    const allowed = await guarded.inject({
      method: 'POST',
      url: '/api/events',
      payload: batch,
      headers: { authorization: 'Bearer ingest-token-0123456789' },
    });
    expect(allowed.statusCode).toBe(202);
    expect(ingested).toHaveLength(1);
  });

  it('answers 429 with Retry-After past the per-minute limit; other routes are not limited', async () => {
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps({ ingestPerMinute: 3 }));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1)
      statuses.push((await app.inject({ method: 'POST', url: '/api/events', payload: batch })).statusCode);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = await app.inject({ method: 'POST', url: '/api/events', payload: batch });
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'KAPPA_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 5; attempt += 1)
      expect((await app.inject('/api/windows/users')).statusCode).toBe(200);
  });
});

describe('HTTP metrics', () => {
  it('count and time every route, not only the health plugin’s', async () => {
    const { deps } = fakes({ serving: 'v1' });
    const built = deps();
    const app = await buildApiApp(built);
    expect((await app.inject('/api/windows/users')).statusCode).toBe(200);
    expect((await app.inject('/api/windows/nope')).statusCode).toBe(400);
    expect((await app.inject('/api/health')).statusCode).toBe(200);
    const requests = await built.metrics.registry.getSingleMetricAsString('kappa_http_requests_total');
    expect(requests).toMatch(/kappa_http_requests_total\{[^}]*route="\/api\/windows\/:dim"[^}]*status="200"[^}]*\} 1/);
    expect(requests).toMatch(/kappa_http_requests_total\{[^}]*route="\/api\/windows\/:dim"[^}]*status="400"[^}]*\} 1/);
    expect(requests).toMatch(/kappa_http_requests_total\{[^}]*route="\/api\/health"/);
    const durations = await built.metrics.registry.getSingleMetricAsString('kappa_http_request_duration_seconds');
    expect(durations).toMatch(/kappa_http_request_duration_seconds_count\{[^}]*route="\/api\/windows\/:dim"[^}]*\} 2/);
    await app.close();
  });
});

describe('the app', () => {
  it('answers unknown routes with KAPPA_NOT_FOUND and shares schemas by $ref in OpenAPI', async () => {
    const app = await buildApiApp(fakes().deps());
    expect((await app.inject('/api/nothing')).json()).toMatchObject({ statusCode: 404, code: 'KAPPA_NOT_FOUND' });
    const spec = (await app.inject('/docs/json')).json<{ components: { schemas: Record<string, unknown> } }>();
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(['ErrorBody', 'SwitchResult', 'VersionStatus', 'WindowRow']),
    );
  });
});

describe('hostile requests (issue 22)', () => {
  const batch = { events: [{ hello: 'a' }] };

  it('a non-ASCII bearer of the right length is a 401, not a 500', async () => {
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps({ ingestToken: 'ingest-token-0123456789' }));
    const admin = 'é'.repeat('admin-token-0123456789'.length);
    const cutover = await app.inject({
      method: 'POST',
      url: '/api/cutover',
      payload: { to: 'v2' },
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(cutover.json()).toMatchObject({ statusCode: 401, code: 'KAPPA_UNAUTHORIZED' });
    const ingest = await app.inject({
      method: 'POST',
      url: '/api/events',
      payload: batch,
      headers: { authorization: `Bearer ${'日'.repeat('ingest-token-0123456789'.length)}` },
    });
    expect(ingest.json()).toMatchObject({ statusCode: 401, code: 'KAPPA_UNAUTHORIZED' });
  });

  it('on loopback, serves only loopback Host headers (DNS rebinding): 421 with a code otherwise', async () => {
    const { deps, ingested } = fakes({ serving: 'v1' });
    const app = await buildApiApp(deps());
    for (const host of ['evil.example.com', 'evil.example.com:3000', '127.0.0.1.nip.io:3000']) {
      const read = await app.inject({ url: '/api/windows/users', headers: { host } });
      expect(read.statusCode, host).toBe(421);
      expect(read.json()).toMatchObject({ statusCode: 421, code: 'KAPPA_MISDIRECTED_REQUEST' });
      const write = await app.inject({ method: 'POST', url: '/api/events', payload: batch, headers: { host } });
      expect(write.statusCode, host).toBe(421);
    }
    expect(ingested).toEqual([]);
    for (const host of ['127.0.0.1:3000', 'localhost:3000', '[::1]:3000', 'localhost'])
      expect((await app.inject({ url: '/api/windows/users', headers: { host } })).statusCode, host).toBe(200);
    const anyHost = await buildApiApp(deps({ loopbackHostsOnly: false }));
    expect((await anyHost.inject({ url: '/api/windows/users', headers: { host: 'api.example.com' } })).statusCode).toBe(
      200,
    );
  });

  it('limits every route per client before authentication: a 401 flood gets 429s', async () => {
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps({ requestsPerMinute: 3 }));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1)
      statuses.push(
        (
          await app.inject({
            method: 'POST',
            url: '/api/cutover',
            payload: { to: 'v2' },
            headers: { authorization: 'Bearer wrong-token-0123456789' },
          })
        ).statusCode,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await app.inject('/api/windows/users');
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'KAPPA_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('sets a request timeout and a headers timeout', async () => {
    const app = await buildApiApp(fakes().deps());
    expect(app.server.requestTimeout).toBeGreaterThan(0);
    expect(app.server.headersTimeout).toBeGreaterThan(0);
    expect(app.server.headersTimeout).toBeLessThanOrEqual(app.server.requestTimeout);
  });

  it('a body over the limit is read to its end and answered 413 on a connection that stays open', async () => {
    // A client writes its whole body before it reads: an answer followed by a close while it still
    // writes makes its next write fail (EPIPE, ECONNRESET) and the 413 is lost to it.
    const app = await buildApiApp(fakes({ serving: 'v1' }).deps());
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      const over = await rawExchange(port, { path: '/api/events', length: 1_100_000, then: '/api/health' });
      expect(over.writeError).toBeUndefined();
      expect(over.statuses).toEqual([413, 200]);
      expect(over.text).toContain('"code":"KAPPA_PAYLOAD_TOO_LARGE"');
      // A body declared far larger is not read: 413 at once, and the connection closes.
      const huge = await rawExchange(port, { path: '/api/events', length: 100_000_000, sendBody: false });
      expect(huge.statuses).toEqual([413]);
      expect(huge.closed).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('top users without from reads only the last day before the newest window (or before to)', async () => {
    const { deps, topQueries } = fakes({ serving: 'v1' });
    const app = await buildApiApp(deps());
    await app.inject('/api/top/users');
    await app.inject('/api/top/users?to=2026-11-24T00:00:00Z');
    await app.inject('/api/top/users?from=2026-11-01T00:00:00Z');
    expect(topQueries.map((query) => query.recentMs)).toEqual([86_400_000, 86_400_000, undefined]);
  });
});
