import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerMatches } from '../bearer.js';
import { MAX_BATCH, type EventInput, type HttpIngest, type InputProblem } from '../http-ingest.js';
import { validIdempotencyKey } from '../idempotency-key.js';
import { KEY_BUSY_RETRY_AFTER_S } from '../ingest-requests.js';
import { isKappaError } from '../../shared/errors.js';
import type { ApiMetrics } from '../metrics.js';
import { RequestError } from '../request-error.js';
import { ErrorRef } from '../schemas.js';

export interface IngestRouteOptions {
  /** HTTP ingest; created on first use (it registers the events schema and opens a producer). */
  readonly ingest: () => Promise<Pick<HttpIngest, 'prepare' | 'write' | 'writeKeyed'>>;
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
        description:
          'With an `Idempotency-Key` header (1–200 printable ASCII characters), a retry with the same key and body within 24 h gets the same ids and writes nothing twice, also after a send that failed half-way; the same key with another body is a 422 (KAPPA_IDEMPOTENCY_KEY_REUSED); a key another request still works on after 30 s is a 409 (KAPPA_IDEMPOTENCY_KEY_BUSY) with Retry-After.',
        ...(options.token === '' ? {} : { security: [{ bearer: [] }] }),
        body: Type.Object(
          { events: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: MAX_BATCH }) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ accepted: Type.Integer(), firstId: Type.Integer(), lastId: Type.Integer() }),
          400: ErrorRef,
          401: ErrorRef,
          409: ErrorRef,
          413: ErrorRef,
          422: ErrorRef,
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
      const header = request.headers['idempotency-key'];
      const key = Array.isArray(header) ? header.join(',') : header;
      if (key !== undefined && !validIdempotencyKey(key))
        throw new RequestError(
          'KAPPA_BAD_REQUEST',
          'Idempotency-Key: expected 1 to 200 printable ASCII characters',
          'Idempotency-Key',
        );
      const ingest = await options.ingest();
      const events = request.body.events as EventInput[];
      let ids: { first: number; last: number; written: number };
      if (key === undefined) {
        const prepared = ingest.prepare(events);
        if ('problem' in prepared) throw problemError(prepared.problem);
        ids = { ...(await ingest.write(prepared.records, prepared.timestampMs)), written: events.length };
      } else {
        const keyed = await ingest.writeKeyed(key, events).catch((error: unknown) => {
          if (isKappaError(error) && error.code === 'KAPPA_IDEMPOTENCY_KEY_BUSY')
            void reply.header('retry-after', String(KEY_BUSY_RETRY_AFTER_S));
          throw error;
        });
        if ('problem' in keyed) throw problemError(keyed.problem);
        ids = keyed;
      }
      // Counts what was written: a retry answered from kappa_ingest_requests writes nothing.
      if (ids.written > 0) options.metrics.httpIngested.inc(ids.written);
      return reply.status(202).send({ accepted: events.length, firstId: ids.first, lastId: ids.last });
    },
  );
  return Promise.resolve();
};

function problemError(problem: InputProblem): RequestError {
  return new RequestError(
    problem.tooLarge === true ? 'KAPPA_PAYLOAD_TOO_LARGE' : 'KAPPA_BAD_EVENT',
    `${problem.field}: ${problem.message}`,
    problem.field,
  );
}
