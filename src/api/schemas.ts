import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/**
 * Schemas several routes share, registered once with `addSchema` and used by `$ref`: they appear
 * once in the OpenAPI document's components. Request schemas stay inline (their TypeScript types
 * come from them), built from the constants below.
 */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    code: Type.String({ description: 'a code of docs/errors.md, e.g. KAPPA_BAD_REQUEST' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the parameter or body field at fault' })),
  },
  { $id: 'ErrorBody' },
);

export const SwitchResult = Type.Object(
  {
    from: Type.Union([Type.String(), Type.Null()]),
    to: Type.String(),
    unchanged: Type.Boolean(),
  },
  { $id: 'SwitchResult' },
);

const NullableInteger = (description: string) => Type.Union([Type.Integer(), Type.Null()], { description });
const NullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

export const VersionStatus = Type.Object(
  {
    version: Type.String(),
    state: Type.String({ description: 'catching-up, backlog-done, caught-up, shadow, serving or retired' }),
    serving: Type.Boolean(),
    topic: Type.String(),
    settings: Type.Object({ sizeMs: Type.Integer(), slideMs: Type.Integer(), delayMs: Type.Integer() }),
    dims: Type.Array(Type.String()),
    lag: Type.Integer(),
    processed: Type.Integer(),
    watermark: Type.Union([Type.String(), Type.Null()]),
    lateEvents: Type.Integer({ description: 'events counted in none of their windows' }),
    lateWindows: Type.Integer({
      description: '(event, window) misses: with hopping windows an event may miss some only',
    }),
    badRecords: Type.Integer({ description: 'records that could not be decoded or whose time does not parse' }),
    plan: Type.Optional(
      Type.Object(
        {
          records: NullableInteger('records to replay: the end offsets when `kappa recover` started'),
          startedAt: NullableString('when `kappa recover` started the replay'),
          ratePerSecond: NullableInteger('records per second since the replay started'),
          etaSeconds: Type.Union([Type.Number(), Type.Null()], {
            description: 'seconds left while catching up (measured rate, else the plan estimate); 0 once caught up',
          }),
          plannedAt: NullableString('when `kappa recover --plan` made the plan'),
          plannedRecords: NullableInteger('records the plan read'),
          expectedLate: NullableInteger('late events the plan says this version will count'),
          comparedWith: NullableString('the serving version the plan compared with'),
          expectedRecovered: NullableInteger('late events of comparedWith this version will count'),
          estimateSeconds: Type.Union([Type.Number(), Type.Null()], {
            description: "the plan's estimated duration of the replay",
          }),
        },
        { description: 'the replay plan (issue 26), when `kappa recover` recorded one' },
      ),
    ),
  },
  { $id: 'VersionStatus' },
);

export const WindowRow = Type.Object(
  {
    window_start: Type.String(),
    window_end: Type.String(),
    key: Type.String(),
    count: Type.Integer(),
    idle_closed: Type.Boolean(),
  },
  { $id: 'WindowRow' },
);

const SHARED = [ErrorBody, SwitchResult, VersionStatus, WindowRow];

export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED) app.addSchema(schema);
}

/** `{ $ref: 'ErrorBody' }` and friends, for response schemas. */
export const ErrorRef = Type.Ref('ErrorBody');
export const SwitchResultRef = Type.Ref('SwitchResult');
export const VersionStatusRef = Type.Ref('VersionStatus');
export const WindowRowRef = Type.Ref('WindowRow');

export const VersionName = Type.String({ pattern: '^v[0-9]{1,6}$', description: 'a job version, e.g. v1' });
export const Instant = Type.String({ format: 'date-time', description: 'ISO-8601, e.g. 2026-11-24T09:00:00Z' });
