import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type HTTPMethods,
} from 'fastify';
import { limitRequests, refuseForeignHosts } from '../shared/http-guards.js';
import type { Logger } from '../shared/logger.js';
import { secretMatches } from '../shared/secrets.js';
import { configRoutes, type ServerIdentity } from './http-config-routes.js';
import { registryRoutes } from './http-routes.js';
import { schemaRoutes } from './http-schema-routes.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import { drainRefusedBodies } from '../shared/discard-body.js';

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const REGISTRY_DEFAULT_TYPE = 'application/vnd.schemaregistry+json';

/** Content types Confluent consumes, on every request, GETs and DELETEs included (bodies optional). */
const ACCEPTED_CONTENT_TYPES = [
  REGISTRY_CONTENT_TYPE,
  REGISTRY_DEFAULT_TYPE,
  'application/json',
  'application/octet-stream',
];

const METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'PUT', 'DELETE'];

export interface RegistryAppOptions {
  readonly service: RegistryService;
  readonly logger?: Logger;
  readonly identity?: ServerIdentity;
  /** Bearer token every POST, PUT and DELETE needs; empty or absent: writes are open (loopback only, see server.ts). */
  readonly writeToken?: string;
  /** Serve only loopback `Host` headers (default true; server.ts turns it off on other addresses). */
  readonly loopbackHostsOnly?: boolean;
  /** Requests per client per minute, counted before the token check (default 6,000; 0: unlimited). */
  readonly requestsPerMinute?: number;
}

/** The largest request body: a schema log record is at most 1 MB (MAX_LOG_RECORD_BYTES), so no write needs more. */
export const REGISTRY_BODY_LIMIT = 1024 * 1024;

const READ_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS'];

/**
 * The guards every request passes before its body is read: loopback Host, the per-client limit,
 * then the token for anything but a read (Fastify runs `onRequest` before parsing the body).
 */
function guardRegistry(app: FastifyInstance, options: RegistryAppOptions): void {
  if (options.loopbackHostsOnly ?? true)
    refuseForeignHosts(
      app,
      (host) =>
        new RegistryError(
          'MISDIRECTED_REQUEST',
          `This schema registry listens on loopback and serves only Host 127.0.0.1, localhost or [::1], not ${JSON.stringify(host)}`,
        ),
    );
  limitRequests(
    app,
    options.requestsPerMinute ?? 6_000,
    (retryAfter, max) =>
      new RegistryError('RATE_LIMITED', `More than ${max} requests in a minute: retry after ${retryAfter} s`),
  );
  const token = options.writeToken ?? '';
  if (token === '') return;
  app.addHook('onRequest', (request, _reply, done) => {
    if (READ_METHODS.includes(request.method)) return done();
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (secretMatches(given, token)) return done();
    done(
      new RegistryError(
        'UNAUTHORIZED',
        'Writes to this schema registry need Authorization: Bearer $KAPPA_REGISTRY_TOKEN',
      ),
    );
  });
}

/**
 * The response type Confluent's content negotiation picks: its own type unless the client asks
 * for plain JSON (or the unversioned registry type) without also accepting its own or anything.
 */
function negotiated(request: FastifyRequest): string {
  const accept = (request.headers.accept ?? '').toLowerCase();
  if (accept === '' || accept.includes('*/*') || accept.includes(REGISTRY_CONTENT_TYPE)) return REGISTRY_CONTENT_TYPE;
  if (accept.includes(REGISTRY_DEFAULT_TYPE)) return REGISTRY_DEFAULT_TYPE;
  if (accept.includes('application/json')) return 'application/json';
  return REGISTRY_CONTENT_TYPE;
}

/**
 * The Confluent Schema Registry REST API (the Avro subset, see docs/architecture.md) as a Fastify
 * app; `listen()` is the caller's business, so tests can use `inject()`. Every error — Fastify's
 * own included — leaves in Confluent's shape `{error_code, message}`.
 */
export function buildRegistryApp(options: RegistryAppOptions): FastifyInstance {
  // Requests are logged at info by Fastify; the registry's log keeps warnings and errors only.
  const logger = options.logger?.child({ component: 'registry-http' }, { level: 'warn' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger | undefined,
    // Subjects of RecordNameStrategy carry a whole namespace: Fastify's default limit (100) is far
    // too small; Node's own limit on the request line (16 KiB) is the one that applies.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    bodyLimit: REGISTRY_BODY_LIMIT,
    // A client that sends its headers or body slowly cannot hold a connection for long.
    requestTimeout: 30_000,
    http: { headersTimeout: 10_000 },
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(ACCEPTED_CONTENT_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(
        new RegistryError('BAD_REQUEST', `Unparseable JSON in the request body: ${(error as Error).message}`),
        undefined,
      );
    }
  });

  guardRegistry(app, options);
  drainRefusedBodies(app);

  app.addHook('onSend', (request, reply, payload, done) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('application/json'))
      reply.header('content-type', negotiated(request));
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError | RegistryError, _request, reply) => {
    if (error instanceof RegistryError) return reply.status(error.status).send(error.toBody());
    if (error.validation !== undefined) {
      return reply
        .status(422)
        .send({ error_code: 422, message: `${error.validationContext ?? 'request'} ${error.message}` });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error_code: error.statusCode, message: error.message });
    }
    logger?.error({ err: error }, 'schema registry request failed');
    return reply.status(500).send({ error_code: 50001, message: `Error in the backend data store: ${error.message}` });
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((method) => app.findRoute({ method, url }) !== null);
    const error =
      allowed.length > 0
        ? new RegistryError('METHOD_NOT_ALLOWED', 'HTTP 405 Method Not Allowed')
        : new RegistryError('NOT_FOUND', 'HTTP 404 Not Found');
    if (allowed.length > 0) void reply.header('allow', allowed.join(', '));
    return reply.status(error.status).send(error.toBody());
  });

  void app.register(registryRoutes, { service: options.service });
  void app.register(schemaRoutes, { service: options.service });
  void app.register(configRoutes, { service: options.service, identity: options.identity ?? {} });
  return app;
}
