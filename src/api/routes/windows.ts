import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DIMENSION_SPECS, DIMENSIONS, dimensionOfSegment, type Dimension } from '../../model/dimensions.js';
import { FreshCoalescer } from '../fresh-coalescer.js';
import { StampedBodies } from '../stamped-bodies.js';
import type { ApiReads, WindowQuery } from '../queries.js';
import { RequestError } from '../request-error.js';
import { ErrorRef, Instant, VersionName, WindowRowRef } from '../schemas.js';
import { timeRange } from './time-range.js';

/** `key` of a dimension in its column's type; a 400 naming `key` when it is not one. */
export function keyOf(dim: Dimension, key: string | undefined): string | number | undefined {
  const spec = DIMENSION_SPECS[dim];
  if (key === undefined || !spec.numeric) return key;
  const value = Number(key);
  if (!/^-?\d{1,10}$/.test(key) || !Number.isSafeInteger(value) || Math.abs(value) > 2_147_483_647)
    throw new RequestError(
      'KAPPA_BAD_REQUEST',
      `key must be a whole number for ${spec.segment}, got ${JSON.stringify(key)}`,
      'key',
    );
  return value;
}

/** What makes two window requests the same read: everything the body depends on. */
export function windowReadKey(segment: string, query: WindowQuery): string {
  return JSON.stringify([segment, query.version, query.from?.getTime(), query.to?.getTime(), query.key, query.limit]);
}

/**
 * `GET /api/windows/:dim`: window counts of the serving version (or `?version=`).
 *
 * Identical concurrent requests share one read (FreshCoalescer): a request only joins a read that
 * starts after it arrived, so it is answered as freshly as by a read of its own — a request that
 * starts after a cutover returned sees the new version. A read asks the version's commit stamp first
 * and reads and serialises the rows only when a commit or a switch moved it since the body kept for
 * the same request was read (StampedBodies).
 */
export const windowRoutes: FastifyPluginCallbackTypebox<{ reads: ApiReads; readCounter?: { inc(): void } }> = (
  app,
  { reads, readCounter },
  done,
) => {
  // A read starts after the I/O turn that asked for it: the requests whose bytes came in together share it.
  const coalescer = new FreshCoalescer<Buffer>((start) => setImmediate(start));
  const bodies = new StampedBodies();
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
            version: Type.Optional(VersionName),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ version: Type.String(), dim: Type.String(), rows: Type.Array(WindowRowRef) }),
          400: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request, reply) => {
      const { dim: name } = request.params;
      const dim = dimensionOfSegment(name) ?? 'user';
      const { start, end } = timeRange(request.query.from, request.query.to);
      const key = keyOf(dim, request.query.key);
      const query: WindowQuery = {
        dim,
        limit: request.query.limit ?? 1_000,
        ...(request.query.version === undefined ? {} : { version: request.query.version }),
        ...(start === undefined ? {} : { from: start }),
        ...(end === undefined ? {} : { to: end }),
        ...(key === undefined ? {} : { key }),
      };
      const readKey = windowReadKey(name, query);
      const body = await coalescer.run(readKey, () =>
        bodies.read(
          readKey,
          () => reads.windowsStamp(query.version),
          async () => {
            readCounter?.inc();
            const { version, rows } = await reads.windows(query);
            // The route's 200 serialiser (fast-json-stringify of the response schema), once per read.
            const text = reply.serialize({ version, dim: name, rows });
            return { version, body: typeof text === 'string' ? Buffer.from(text) : Buffer.from(text as ArrayBuffer) };
          },
        ),
      );
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );
  done();
};
