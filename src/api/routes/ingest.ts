import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerMatches } from '../bearer.js';
import { MAX_BATCH, type EventInput, type HttpIngest } from '../http-ingest.js';
import type { ApiMetrics } from '../metrics.js';
import { RequestError } from '../request-error.js';
import { ErrorRef } from '../schemas.js';

export interface IngestRouteOptions {
  /** HTTP ingest; created on first use (it registers the events schema and opens a producer). */
  readonly ingest: () => Promise<Pick<HttpIngest, 'prepare' | 'write'>>;
  readonly metrics: ApiMetrics;
  /** Bearer token ingest requires; empty: open (only allowed on a loopback address, see server.ts). */
  readonly token: string;
  /** Batches per client (IP) per minute; 0: unlimited. */
  readonly perMinute: number;
}

/** `POST /api/events`: a batch of events validated against the `events` schema into the events topic. */
export const ingestRoutes: FastifyPluginAsyncTypebox<IngestRouteOptions> = (app, options) => {
  // The route's own limit (config.rateLimit) comes from @fastify/rate-limit, registered once in app.ts.
  app.post(
    '/api/events',
    {
      config: options.perMinute > 0 ? { rateLimit: { max: options.perMinute, timeWindow: 60_000 } } : {},
      schema: {
        summary: `Ingest a batch of up to ${MAX_BATCH} events into the events topic (ids assigned by kappa)`,
        ...(options.token === '' ? {} : { security: [{ bearer: [] }] }),
        body: Type.Object(
          { events: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: MAX_BATCH }) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ accepted: Type.Integer(), firstId: Type.Integer(), lastId: Type.Integer() }),
          400: ErrorRef,
          401: ErrorRef,
          413: ErrorRef,
          429: ErrorRef,
        },
      },
      // The token is checked before the body is parsed and validated: strangers learn nothing.
      onRequest: (request, _reply, done) => {
        if (options.token === '' || bearerMatches(request, options.token)) return done();
        done(
          new RequestError(
            'KAPPA_UNAUTHORIZED',
            'ingest needs a valid bearer token (Authorization: Bearer $KAPPA_INGEST_TOKEN)',
          ),
        );
      },
    },
    async (request, reply) => {
      const ingest = await options.ingest();
      const prepared = ingest.prepare(request.body.events as EventInput[]);
      if ('problem' in prepared)
        throw new RequestError(
          prepared.problem.tooLarge === true ? 'KAPPA_PAYLOAD_TOO_LARGE' : 'KAPPA_BAD_EVENT',
          `${prepared.problem.field}: ${prepared.problem.message}`,
          prepared.problem.field,
        );
      const ids = await ingest.write(prepared.records, prepared.timestampMs);
      options.metrics.httpIngested.inc(prepared.records.length);
      return reply.status(202).send({ accepted: prepared.records.length, firstId: ids.first, lastId: ids.last });
    },
  );
  return Promise.resolve();
};
