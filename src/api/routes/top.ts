import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WindowSettings } from '../../model/window-settings.js';
import type { ApiReads } from '../queries.js';
import { RequestError } from '../request-error.js';
import { ErrorRef, Instant, VersionName } from '../schemas.js';
import { timeRange } from './time-range.js';

/**
 * How to sum a version's windows so each event counts once. Tumbling: every window. Hopping, when
 * the slide divides the size: only the windows starting at a multiple of the size — epoch-aligned,
 * they tile time like a tumbling version's, so each event is in exactly one. Otherwise no subset
 * tiles time: refused, saying why.
 */
export function onceEach(version: string, settings: WindowSettings): { alignedToMs?: number } {
  if (settings.slideMs === settings.sizeMs) return {};
  if (settings.sizeMs % settings.slideMs === 0) return { alignedToMs: settings.sizeMs };
  throw new RequestError(
    'KAPPA_BAD_REQUEST',
    `${version} has hopping windows (${settings.sizeMs} ms every ${settings.slideMs} ms) whose slide does not divide the size: summing them would count each event in several windows, and no subset of them counts each event once; ask a tumbling version`,
    'version',
  );
}

/** Without `from`, /api/top/users sums the last day of windows (before `to`, or before the newest window). */
export const TOP_DEFAULT_RECENT_MS = 86_400_000;

/** `GET /api/top/users`: the users with the most events, each event counted once. */
export const topRoutes: FastifyPluginCallbackTypebox<{ reads: ApiReads }> = (app, { reads }, done) => {
  app.get(
    '/api/top/users',
    {
      schema: {
        summary:
          'The users with the most events over windows starting in [from, to), each event counted once; without from, the last day of windows before to (or before the newest window)',
        querystring: Type.Object(
          {
            from: Type.Optional(Instant),
            to: Type.Optional(Instant),
            n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 10 })),
            version: Type.Optional(VersionName),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            version: Type.String(),
            users: Type.Array(Type.Object({ user_name: Type.String(), count: Type.Integer() })),
          }),
          400: ErrorRef,
          404: ErrorRef,
        },
      },
    },
    async (request) => {
      const { start, end } = timeRange(request.query.from, request.query.to);
      const version = request.query.version ?? (await reads.servingVersion());
      if (version === undefined)
        throw new RequestError(
          'KAPPA_NO_SERVING_VERSION',
          'no version serves yet: the first version that commits rows will (or ask for ?version=v1)',
          'version',
        );
      const settings = await reads.settingsOf(version);
      if (settings === undefined)
        throw new RequestError('KAPPA_VERSION_UNKNOWN', `version ${version} does not exist`, 'version');
      const users = await reads.topUsers({
        version,
        n: request.query.n ?? 10,
        ...onceEach(version, settings),
        ...(start === undefined ? { recentMs: TOP_DEFAULT_RECENT_MS } : { from: start }),
        ...(end === undefined ? {} : { to: end }),
      });
      return { version, users: [...users] };
    },
  );
  done();
};
