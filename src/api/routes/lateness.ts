import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { delayList, duration, share } from '../../config/parsers.js';
import type { LatenessService } from '../../lateness/service.js';
import { validateSettings } from '../../model/window-settings.js';
import { isKappaError } from '../../shared/errors.js';

// The service is optional in the API's dependencies: `kappa serve` gives one, tests of other
// routes need not. Declared here so that app.ts only registers the plugin.
declare module '../app.js' {
  interface ApiDependencies {
    /** GET /api/lateness: the stages log's lateness, read in the background. */
    readonly lateness?: LatenessService;
  }
}

const Distribution = {
  p50: Type.Integer(),
  p90: Type.Integer(),
  p99: Type.Integer(),
  p999: Type.Integer(),
  max: Type.Integer(),
};
const Windows = Type.Object({ sizeMs: Type.Integer(), slideMs: Type.Integer() });
const LatenessDocument = Type.Object({
  topic: Type.String(),
  offsets: Type.Array(Type.Object({ partition: Type.Integer(), next: Type.String() }), {
    description: 'the numbers cover each partition up to (excluding) this offset',
  }),
  windows: Windows,
  events: Type.Integer(),
  bad: Type.Integer(),
  future: Type.Integer({
    description:
      "records whose time is further ahead of their record's timestamp than KAPPA_MAX_FUTURE (future-time): no events",
  }),
  overall: Type.Object(Distribution, { description: 'lateness in ms, 3 significant digits (max exact)' }),
  partitions: Type.Array(
    Type.Object({
      partition: Type.Integer(),
      events: Type.Integer(),
      bad: Type.Integer(),
      future: Type.Integer(),
      ...Distribution,
    }),
  ),
  delays: Type.Array(
    Type.Object({
      delayMs: Type.Integer(),
      lateEvents: Type.Integer(),
      lateWindows: Type.Integer(),
      lateFraction: Type.Number(),
    }),
  ),
  target: Type.Number(),
  recommendedMs: Type.Integer(),
  smallestCandidateMs: Type.Union([Type.Integer(), Type.Null()]),
});
const Answer = Type.Object({
  state: Type.Union([Type.Literal('computing'), Type.Literal('ready')]),
  windows: Windows,
  document: Type.Union([LatenessDocument, Type.Null()]),
  computedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});
const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
const Query = Type.Object(
  {
    delays: Type.Optional(Type.String({ maxLength: 1_000, description: 'e.g. 15s,30s,60s,5m,1h' })),
    window: Type.Optional(Type.String({ maxLength: 32, description: 'window size, e.g. 10s' })),
    slide: Type.Optional(Type.String({ maxLength: 32, description: 'window slide, e.g. 10s' })),
    target: Type.Optional(Type.String({ maxLength: 32, description: 'share of late events, e.g. 0.1%' })),
  },
  { additionalProperties: false },
);

function badRequest(reply: FastifyReply, field: string, message: string) {
  return reply
    .status(400)
    .send({ statusCode: 400, error: 'Bad Request', code: 'KAPPA_BAD_REQUEST', message: `${field}: ${message}`, field });
}

/** `GET /api/lateness`: `kappa lateness` over HTTP, answered from a background read of the log. */
export async function latenessRoutes(app: FastifyInstance, deps: { readonly lateness?: LatenessService }) {
  await Promise.resolve();
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/lateness',
    {
      schema: {
        summary: 'Lateness of the stages log and late events per watermark delay (computed in the background)',
        querystring: Query,
        response: { 200: Answer, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const service = deps.lateness;
      if (service === undefined)
        return reply.status(503).send({
          statusCode: 503,
          error: 'Service Unavailable',
          code: 'KAPPA_LATENESS_UNAVAILABLE',
          message: 'this server does not analyse lateness',
        });
      const { defaults } = service;
      const parsed: Record<string, number | readonly number[]> = {};
      for (const [field, schema] of [
        ['delays', delayList],
        ['window', duration('10s')],
        ['slide', duration('10s')],
        ['target', share],
      ] as const) {
        const text = request.query[field];
        if (text === undefined) continue;
        const result = schema.safeParse(text);
        if (!result.success) return badRequest(reply, field, result.error.issues[0]?.message ?? 'is invalid');
        parsed[field] = result.data;
      }
      const sizeMs = (parsed['window'] as number | undefined) ?? defaults.windows.sizeMs;
      const windows = { sizeMs, slideMs: (parsed['slide'] as number | undefined) ?? sizeMs };
      if (request.query.window === undefined && request.query.slide === undefined)
        Object.assign(windows, defaults.windows);
      const problem = validateSettings({ ...windows, delayMs: 0 });
      if (problem !== undefined) return badRequest(reply, 'slide', problem);
      try {
        return service.answer(
          windows,
          (parsed['delays'] as readonly number[] | undefined) ?? defaults.delays,
          (parsed['target'] as number | undefined) ?? defaults.target,
        );
      } catch (error) {
        // One analysis reads at a time and few wait: a new window setting beyond that is a 503.
        if (isKappaError(error) && error.code === 'KAPPA_LATENESS_BUSY') void reply.header('retry-after', '5');
        throw error;
      }
    },
  );
}
