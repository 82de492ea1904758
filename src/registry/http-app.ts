import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../shared/logger.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import { registryRoutes } from './http-routes.js';

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Content types Confluent's clients send, on every request, GETs included. */
const ACCEPTED_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/octet-stream',
];

export interface RegistryAppOptions {
  readonly service: RegistryService;
  readonly logger?: Logger;
}

/**
 * The Confluent Schema Registry REST API (the Avro subset the Confluent clients use) as a Fastify
 * app; `listen()` is the caller's business, so tests can use `inject()`.
 */
export function buildRegistryApp(options: RegistryAppOptions): FastifyInstance {
  // Requests are logged at info by Fastify; the registry's log keeps warnings and errors only.
  const logger = options.logger?.child({ component: 'registry-http' }, { level: 'warn' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger | undefined,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 4 * 1024 * 1024,
  });

  app.addContentTypeParser(ACCEPTED_CONTENT_TYPES, { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(new RegistryError('INVALID_SCHEMA', `Unparseable request body: ${(error as Error).message}`), undefined);
    }
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('application/json'))
      reply.header('content-type', REGISTRY_CONTENT_TYPE);
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

  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send({ error_code: 404, message: 'HTTP 404 Not Found' }),
  );

  void app.register(registryRoutes, { service: options.service });
  return app;
}
