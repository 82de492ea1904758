import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { drainRefusedBodies } from '../shared/discard-body.js';
import { httpStatusOf, isKappaError, type ErrorCode } from '../shared/errors.js';
import { limitRequests, refuseForeignHosts } from '../shared/http-guards.js';
import type { Logger } from '../shared/logger.js';
import { registerDashboard } from './dashboard.js';
import { instrumentHttp, type ApiMetrics } from './metrics.js';
import type { ApiReads } from './queries.js';
import { healthRoutes, type ReadinessChecks } from './routes/health.js';
import { ingestRoutes, type IngestRouteOptions } from './routes/ingest.js';
import { topRoutes } from './routes/top.js';
import { versionRoutes, type VersionOperations } from './routes/versions.js';
import { windowRoutes } from './routes/windows.js';
import { RequestError } from './request-error.js';
import { addSharedSchemas } from './schemas.js';
import { latenessRoutes } from './routes/lateness.js';
import { diffRoutes } from './routes/diff.js';

export interface ApiDependencies {
  readonly reads: ApiReads;
  readonly operations: VersionOperations;
  readonly ingest: IngestRouteOptions['ingest'];
  /** Checks for /api/ready: each resolves when its dependency answers. */
  readonly readiness: ReadinessChecks;
  readonly metrics: ApiMetrics;
  /** Bearer token for POST /api/cutover and /api/rollback; empty: those routes always answer 401. */
  readonly token: string;
  /** Bearer token for POST /api/events; empty: open (server.ts refuses that off loopback). */
  readonly ingestToken?: string;
  /** POST /api/events per client per minute; 0: unlimited. */
  readonly ingestPerMinute?: number;
  /** Requests to any route per client per minute, counted before any token check; 0: unlimited (default 6,000). */
  readonly requestsPerMinute?: number;
  /**
   * Serve only requests whose `Host` is 127.0.0.1, localhost or [::1] (default true): what a server
   * listening on loopback must do against DNS rebinding. server.ts turns it off on other addresses.
   */
  readonly loopbackHostsOnly?: boolean;
  readonly logger: Logger;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
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

/** Fastify's own 4xx errors (body too large, wrong content type …) under kappa's codes. */
function codeOfFastifyError(status: number): ErrorCode {
  return status === 413
    ? 'KAPPA_PAYLOAD_TOO_LARGE'
    : status === 415
      ? 'KAPPA_UNSUPPORTED_MEDIA_TYPE'
      : 'KAPPA_BAD_REQUEST';
}

function sendError(reply: FastifyReply, code: ErrorCode, message: string, field?: string) {
  const status = httpStatusOf(code);
  return reply.status(status).send({
    statusCode: status,
    error: statusText(status),
    code,
    message,
    ...(field === undefined ? {} : { field }),
  });
}

/** A client that sends its headers slowly, or its body, cannot hold a connection for long (Node's defaults: 60 s, 300 s). */
export const API_TIMEOUTS = { requestTimeout: 30_000, http: { headersTimeout: 10_000 } } as const;

/**
 * What every request passes first, in this order, before any route's own hooks (so before a
 * token is looked at or a body parsed): the Host check on loopback, then the per-client limit.
 * @fastify/rate-limit is registered here once; routes with their own limit (ingest) use its
 * `config.rateLimit`.
 */
async function guardRequests(app: FastifyInstance, deps: ApiDependencies): Promise<void> {
  if (deps.loopbackHostsOnly ?? true)
    refuseForeignHosts(
      app,
      (host) =>
        new RequestError(
          'KAPPA_MISDIRECTED_REQUEST',
          `this API listens on loopback and serves only Host 127.0.0.1, localhost or [::1], not ${JSON.stringify(host)} (DNS rebinding)`,
        ),
    );
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new RequestError(
        'KAPPA_RATE_LIMITED',
        `more than ${context.max} ingest requests in ${context.after}: retry after ${Math.ceil(context.ttl / 1_000)} s`,
      ),
  });
  limitRequests(
    app,
    deps.requestsPerMinute ?? 6_000,
    (retryAfter, max) =>
      new RequestError('KAPPA_RATE_LIMITED', `more than ${max} requests in a minute: retry after ${retryAfter} s`),
  );
}

/**
 * The query API (SPEC §1.5), one plugin per area under routes/: window counts, top users, versions
 * and admin, ingest, health and metrics; plus OpenAPI at /docs and the dashboard at /. Every route
 * declares request and response schemas (shared ones by `$ref`); unknown parameters are refused.
 * Errors answer `{statusCode, error, code, message, field?}`, the status derived from the code.
 */
export async function buildApiApp(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1_048_576,
    ...API_TIMEOUTS,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError, _request, reply: FastifyReply) => {
    if (isKappaError(error)) {
      const field = (error as { field?: unknown }).field;
      if (httpStatusOf(error.code) === 500) deps.logger.error({ err: error }, 'request failed');
      return sendError(reply, error.code, error.message, typeof field === 'string' ? field : undefined);
    }
    if (error.validation !== undefined)
      return sendError(reply, 'KAPPA_BAD_REQUEST', error.message, validationField(error));
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return sendError(reply, codeOfFastifyError(error.statusCode), error.message);
    deps.logger.error({ err: error }, 'request failed');
    return sendError(reply, 'KAPPA_INTERNAL', 'internal error; see the server log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'KAPPA_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`),
  );

  drainRefusedBodies(app);
  addSharedSchemas(app);
  instrumentHttp(app, deps.metrics);
  await guardRequests(app, deps);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'kappa query API',
        version: '0.1.0',
        description: 'Window counts of the serving job version, versions and cutover, HTTP ingest.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    // Shared schemas keep their names in the document's components (not def-0, def-1 …).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${index}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerDashboard(app);
  await app.register(latenessRoutes, deps);
  await app.register(diffRoutes, deps);

  await app.register(windowRoutes, { reads: deps.reads, readCounter: deps.metrics.windowReads });
  await app.register(topRoutes, { reads: deps.reads });
  await app.register(versionRoutes, { operations: deps.operations, token: deps.token });
  await app.register(ingestRoutes, {
    ingest: deps.ingest,
    metrics: deps.metrics,
    token: deps.ingestToken ?? '',
    perMinute: deps.ingestPerMinute ?? 0,
  });
  await app.register(healthRoutes, { readiness: deps.readiness, metrics: deps.metrics });
  return app;
}
