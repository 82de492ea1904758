import { timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Admin } from 'kafkajs';
import { Type } from 'typebox';
import { DIMENSION_SPECS, DIMENSIONS, dimensionOfSegment, type Dimension } from '../aggregates/dimensions.js';
import type { Catalog } from '../recovery/catalog.js';
import { cutover, rollback, versionStatus } from '../recovery/operations.js';
import { isKappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { registerDashboard } from './dashboard.js';
import { MAX_BATCH, type EventInput, type HttpIngest } from './http-ingest.js';
import { registerMetrics, type ApiMetrics } from './metrics.js';
import type { Queries } from './queries.js';

export interface ApiDependencies {
  readonly queries: Queries;
  readonly catalog: Catalog;
  readonly admin: Admin;
  /** HTTP ingest; created on first use (it registers the events schema and opens a producer). */
  readonly ingest: () => Promise<HttpIngest>;
  /** Checks for /api/ready: each resolves when its dependency answers. */
  readonly readiness: Readonly<Record<'kafka' | 'registry' | 'mysql', () => Promise<void>>>;
  readonly metrics: ApiMetrics;
  /** Bearer token for POST /api/cutover and /api/rollback; empty: those routes always answer 401. */
  readonly token: string;
  readonly logger: Logger;
}

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

const Version = Type.String({ pattern: '^v[0-9]{1,6}$', description: 'a job version, e.g. v1' });
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601, e.g. 2026-11-24T09:00:00Z' });

class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function statusText(status: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        404: 'Not Found',
        409: 'Conflict',
        413: 'Payload Too Large',
        415: 'Unsupported Media Type',
        503: 'Service Unavailable',
      } as Record<number, string>
    )[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error')
  );
}

/** The field a Fastify validation error is about: `from`, `events[3].hello`, `limit` … */
function validationField(error: FastifyError): string | undefined {
  const first = error.validation?.[0];
  if (first === undefined) return undefined;
  const params = first.params;
  const path = first.instancePath
    .replace(/^\//, '')
    .split('/')
    .filter((part) => part !== '');
  const extra = params['missingProperty'] ?? params['additionalProperty'];
  if (typeof extra === 'string') path.push(extra);
  return (
    path.map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`)).join('') ||
    error.validationContext
  );
}

function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  if (token === '' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/**
 * The query API (SPEC §1.5): window counts of the serving version (or one asked for), top users,
 * versions, cutover and rollback, health and readiness, HTTP ingest, Prometheus metrics, OpenAPI at
 * /docs and the dashboard at /. Every route declares its request and response schemas; unknown
 * parameters are refused, never silently dropped.
 */
export async function buildApiApp(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1_048_576,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError | HttpProblem, _request, reply: FastifyReply) => {
    if (error instanceof HttpProblem) {
      return reply.status(error.statusCode).send({
        statusCode: error.statusCode,
        error: statusText(error.statusCode),
        code: error.code,
        message: error.message,
        ...(error.field === undefined ? {} : { field: error.field }),
      });
    }
    if (isKappaError(error)) {
      const status =
        error.code === 'KAPPA_VERSION_UNKNOWN'
          ? 404
          : error.code === 'KAPPA_CUTOVER_REFUSED' || error.code === 'KAPPA_ROLLBACK_REFUSED'
            ? 409
            : 500;
      return reply
        .status(status)
        .send({ statusCode: status, error: statusText(status), code: error.code, message: error.message });
    }
    if (error.validation !== undefined) {
      const field = validationField(error);
      return reply.status(400).send({
        statusCode: 400,
        error: 'Bad Request',
        code: 'KAPPA_BAD_REQUEST',
        message: error.message,
        ...(field === undefined ? {} : { field }),
      });
    }
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) deps.logger.error({ err: error }, 'request failed');
    return reply.status(status).send({
      statusCode: status,
      error: statusText(status),
      code: status === 500 ? 'KAPPA_INTERNAL' : (error.code ?? 'KAPPA_BAD_REQUEST'),
      message: status === 500 ? 'internal error; see the server log' : error.message,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      statusCode: 404,
      error: 'Not Found',
      code: 'KAPPA_NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'kappa query API',
        version: '0.1.0',
        description: 'Window counts of the serving job version, versions and cutover, HTTP ingest.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerMetrics(app, deps.metrics);
  registerDashboard(app);

  /** The version asked for, or the serving one; 404 when neither exists. */
  const versionFor = async (asked: string | undefined, dim: Dimension): Promise<string> => {
    const version = asked ?? (await deps.catalog.serving());
    if (version === undefined)
      throw new HttpProblem(
        404,
        'KAPPA_NO_SERVING_VERSION',
        'no version serves yet: `kappa cutover --to v1` (or ask for ?version=v1)',
        'version',
      );
    if (!(await deps.queries.tableExists(version, dim)))
      throw new HttpProblem(404, 'KAPPA_VERSION_UNKNOWN', `version ${version} has no ${dim} table`, 'version');
    return version;
  };
  const range = (from: string | undefined, to: string | undefined) => {
    const start = from === undefined ? undefined : new Date(from);
    const end = to === undefined ? undefined : new Date(to);
    if (start !== undefined && end !== undefined && start.getTime() > end.getTime())
      throw new HttpProblem(400, 'KAPPA_BAD_REQUEST', 'from must not be after to', 'from');
    return { start, end };
  };

  app.get(
    '/api/windows/:dim',
    {
      schema: {
        summary: 'Window counts per key, oldest first (the latest `limit` rows)',
        params: Type.Object(
          { dim: Type.Union(DIMENSIONS.map((dim) => Type.Literal(DIMENSION_SPECS[dim].segment))) },
          { additionalProperties: false },
        ),
        querystring: Type.Object(
          {
            from: Type.Optional(Instant),
            to: Type.Optional(Instant),
            key: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
            version: Type.Optional(Version),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            version: Type.String(),
            dim: Type.String(),
            rows: Type.Array(
              Type.Object({
                window_start: Type.String(),
                window_end: Type.String(),
                key: Type.String(),
                count: Type.Integer(),
                idle_closed: Type.Boolean(),
              }),
            ),
          }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const dim = dimensionOfSegment(request.params.dim) ?? 'user';
      const { start, end } = range(request.query.from, request.query.to);
      const version = await versionFor(request.query.version, dim);
      const rows = await deps.queries.windows({
        version,
        dim,
        limit: request.query.limit ?? 1_000,
        ...(start === undefined ? {} : { from: start }),
        ...(end === undefined ? {} : { to: end }),
        ...(request.query.key === undefined ? {} : { key: request.query.key }),
      });
      return { version, dim: request.params.dim, rows };
    },
  );

  app.get(
    '/api/top/users',
    {
      schema: {
        summary: 'The users with the most events over windows starting in [from, to)',
        querystring: Type.Object(
          {
            from: Type.Optional(Instant),
            to: Type.Optional(Instant),
            n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 10 })),
            version: Type.Optional(Version),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            version: Type.String(),
            users: Type.Array(Type.Object({ user_name: Type.String(), count: Type.Integer() })),
          }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const { start, end } = range(request.query.from, request.query.to);
      const version = await versionFor(request.query.version, 'user');
      return { version, users: await deps.queries.topUsers(version, request.query.n ?? 10, start, end) };
    },
  );

  const VersionOut = Type.Object({
    version: Type.String(),
    state: Type.String(),
    serving: Type.Boolean(),
    topic: Type.String(),
    settings: Type.Object({ sizeMs: Type.Integer(), slideMs: Type.Integer(), delayMs: Type.Integer() }),
    dims: Type.Array(Type.String()),
    lag: Type.Integer(),
    processed: Type.Integer(),
    watermark: Type.Union([Type.String(), Type.Null()]),
    lateEvents: Type.Integer(),
    lateWindows: Type.Integer(),
    badRecords: Type.Integer(),
  });
  app.get(
    '/api/versions',
    {
      schema: {
        summary: 'Job versions: state, settings, lag, watermark, late events',
        response: { 200: Type.Object({ versions: Type.Array(VersionOut) }) },
      },
    },
    async () => ({
      versions: (await versionStatus(deps.catalog, deps.admin)).map((status) => ({
        ...status,
        dims: [...status.dims],
      })),
    }),
  );

  const requireToken = (request: FastifyRequest): void => {
    if (!bearerMatches(request, deps.token))
      throw new HttpProblem(
        401,
        'KAPPA_UNAUTHORIZED',
        deps.token === ''
          ? 'cutover and rollback over HTTP are disabled: set KAPPA_API_TOKEN'
          : 'a valid bearer token is required (Authorization: Bearer …)',
      );
  };
  const Switched = Type.Object({
    from: Type.Union([Type.String(), Type.Null()]),
    to: Type.String(),
    unchanged: Type.Boolean(),
  });
  app.post(
    '/api/cutover',
    {
      schema: {
        summary: 'Switch readers to a caught-up version (bearer token)',
        security: [{ bearer: [] }],
        body: Type.Object({ to: Version }, { additionalProperties: false }),
        response: { 200: Switched, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      requireToken(request);
      const result = await cutover(deps.catalog, deps.admin, request.body.to);
      return { from: result.from ?? null, to: result.to, unchanged: result.unchanged };
    },
  );
  app.post(
    '/api/rollback',
    {
      schema: {
        summary: 'Switch readers back to the previous version (bearer token)',
        security: [{ bearer: [] }],
        response: { 200: Switched, 401: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      requireToken(request);
      const result = await rollback(deps.catalog);
      return { from: result.from ?? null, to: result.to, unchanged: result.unchanged };
    },
  );

  app.get(
    '/api/health',
    {
      schema: {
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }) },
      },
    },
    () => ({ status: 'ok' as const, uptimeSeconds: process.uptime() }),
  );

  const Check = Type.Union([Type.Literal('ok'), Type.String()]);
  const Ready = Type.Object({
    ready: Type.Boolean(),
    checks: Type.Object({ kafka: Check, registry: Check, mysql: Check }),
  });
  app.get(
    '/api/ready',
    { schema: { summary: 'Kafka, the schema registry and MySQL answer', response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const entries = await Promise.all(
        (Object.entries(deps.readiness) as ['kafka' | 'registry' | 'mysql', () => Promise<void>][]).map(
          async ([name, check]) => {
            try {
              await Promise.race([
                check(),
                new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3_000).unref()),
              ]);
              return [name, 'ok'] as const;
            } catch (error) {
              return [name, error instanceof Error ? error.message : String(error)] as const;
            }
          },
        ),
      );
      const checks = Object.fromEntries(entries) as Record<'kafka' | 'registry' | 'mysql', string>;
      const ready = entries.every(([, result]) => result === 'ok');
      return reply.status(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.post(
    '/api/events',
    {
      schema: {
        summary: `Ingest a batch of up to ${MAX_BATCH} events into the events topic (ids assigned by kappa)`,
        body: Type.Object(
          { events: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: MAX_BATCH }) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ accepted: Type.Integer(), firstId: Type.Integer(), lastId: Type.Integer() }),
          400: ErrorBody,
          413: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const ingest = await deps.ingest();
      const prepared = ingest.prepare(request.body.events as EventInput[]);
      if ('problem' in prepared)
        throw new HttpProblem(
          400,
          'KAPPA_BAD_EVENT',
          `${prepared.problem.field}: ${prepared.problem.message}`,
          prepared.problem.field,
        );
      const ids = await ingest.write(prepared.records);
      deps.metrics.httpIngested.inc(prepared.records.length);
      return reply.status(202).send({ accepted: prepared.records.length, firstId: ids.first, lastId: ids.last });
    },
  );

  return app;
}
