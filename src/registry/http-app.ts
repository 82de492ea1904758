import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type HTTPMethods,
} from 'fastify';
import type { Logger } from '../shared/logger.js';
import { configRoutes, type ServerIdentity } from './http-config-routes.js';
import { registryRoutes } from './http-routes.js';
import { schemaRoutes } from './http-schema-routes.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';

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
    bodyLimit: 4 * 1024 * 1024,
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
