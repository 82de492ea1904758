import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { Type } from 'typebox';
import { dimensionOfSegment, isDimension, type Dimension } from '../../model/dimensions.js';
import type { RowExplanation } from '../../recovery/explain.js';
import type { LiveDiffService } from '../../recovery/live-diff-service.js';
import type { ApiMetrics } from '../metrics.js';
import { RequestError } from '../request-error.js';
import { ErrorRef, Instant, VersionName } from '../schemas.js';

/** Explains one row of a diff: the events that make `from` and `to` differ there. */
type ExplainRow = (
  from: string,
  to: string,
  dim: Dimension,
  key: string,
  windowStart: number,
) => Promise<RowExplanation>;

// Optional in the API's dependencies: `kappa serve` gives them, tests of other routes need not.
declare module '../app.js' {
  interface ApiDependencies {
    /** GET /api/diff: the live diff between the serving version and a shadow, kept in the background. */
    readonly liveDiff?: LiveDiffService;
    /** GET /api/explain: replays both versions' logs (in the background, never in a request). */
    readonly explain?: ExplainRow;
  }
}

const Row = Type.Object({
  dim: Type.String(),
  key: Type.String(),
  windowStart: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  explained: Type.Union([Type.Boolean(), Type.Null()], {
    description: 'by lateness alone (kappa explain); null until explained',
  }),
});
const Dim = Type.Object({
  dim: Type.String(),
  totalFrom: Type.Integer(),
  totalTo: Type.Integer(),
  differing: Type.Integer(),
  onlyFrom: Type.Integer(),
  onlyTo: Type.Integer(),
  explained: Type.Integer(),
  unexplained: Type.Integer(),
  windows: Type.Array(Type.Object({ windowStart: Type.String(), from: Type.Integer(), to: Type.Integer() })),
  rows: Type.Array(Row),
});
const DiffAnswer = Type.Object({
  from: Type.String(),
  to: Type.String(),
  state: Type.Union([Type.Literal('computing'), Type.Literal('ready')]),
  comparedThrough: Type.Union([Type.String(), Type.Null()], {
    description: 'windows starting at or before this instant are compared (closed in both)',
  }),
  computedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  dims: Type.Array(Dim),
});
const Shadows = Type.Object({ pairs: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })) });
const ExplainAnswer = Type.Object({
  state: Type.Union([Type.Literal('computing'), Type.Literal('ready')]),
  error: Type.Union([Type.String(), Type.Null()]),
  explanation: Type.Union([Type.Unknown({ description: 'what kappa explain --json prints' }), Type.Null()]),
});

const DimParam = Type.String({ maxLength: 16, description: 'users (or user), depts, ages, genders' });

function dimensionOf(text: string | undefined): Dimension | undefined {
  if (text === undefined) return undefined;
  const dim = dimensionOfSegment(text) ?? (isDimension(text) ? text : undefined);
  if (dim === undefined)
    throw new RequestError('KAPPA_BAD_REQUEST', `dim: unknown dimension ${JSON.stringify(text)}`, 'dim');
  return dim;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Gauges of every shadow pair's live diff, refreshed at each scrape. */
function registerGauges(metrics: ApiMetrics, liveDiff: LiveDiffService): void {
  const rows = new Gauge({
    name: 'kappa_shadow_diff_rows',
    help: 'Live diff serving → shadow over windows closed in both: rows by kind (differing, only_from, only_to, explained, unexplained)',
    labelNames: ['from', 'to', 'dim', 'kind'] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const { from, to } of await liveDiff.shadows().catch(() => [])) {
        for (const dim of liveDiff.answer(from, to).dims) {
          const labels = { from, to, dim: dim.dim };
          this.set({ ...labels, kind: 'differing' }, dim.differing);
          this.set({ ...labels, kind: 'only_from' }, dim.onlyFrom);
          this.set({ ...labels, kind: 'only_to' }, dim.onlyTo);
          this.set({ ...labels, kind: 'explained' }, dim.explained);
          this.set({ ...labels, kind: 'unexplained' }, dim.unexplained);
        }
      }
    },
  });
  void rows;
  const totals = new Gauge({
    name: 'kappa_shadow_diff_total',
    help: 'Live diff serving → shadow over windows closed in both: each version total count, per dimension',
    labelNames: ['from', 'to', 'dim', 'version'] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const { from, to } of await liveDiff.shadows().catch(() => [])) {
        for (const dim of liveDiff.answer(from, to).dims) {
          this.set({ from, to, dim: dim.dim, version: from }, dim.totalFrom);
          this.set({ from, to, dim: dim.dim, version: to }, dim.totalTo);
        }
      }
    },
  });
  void totals;
}

interface Pending {
  result?: RowExplanation;
  error?: string;
}

/** `GET /api/diff`, `GET /api/shadows`, `GET /api/explain`. */
export async function diffRoutes(
  app: FastifyInstance,
  deps: {
    readonly liveDiff?: LiveDiffService;
    readonly explain?: ExplainRow;
    readonly metrics: ApiMetrics;
  },
) {
  await Promise.resolve();
  const { liveDiff, explain } = deps;
  if (liveDiff !== undefined) registerGauges(deps.metrics, liveDiff);

  app.get(
    '/api/shadows',
    {
      schema: {
        summary: 'The pairs the live diff keeps current: the serving version and each shadow',
        response: { 200: Shadows },
      },
    },
    async () => ({ pairs: liveDiff === undefined ? [] : await liveDiff.shadows() }),
  );

  app.get<{ Querystring: { from: string; to: string; dim?: string } }>(
    '/api/diff',
    {
      schema: {
        summary: 'Live diff of two versions over windows closed in both (kappa diff), kept current in the background',
        querystring: Type.Object(
          { from: VersionName, to: VersionName, dim: Type.Optional(DimParam) },
          { additionalProperties: false },
        ),
        response: { 200: DiffAnswer, 400: ErrorRef, 404: ErrorRef },
      },
    },
    (request) => {
      if (liveDiff === undefined) throw new RequestError('KAPPA_NOT_FOUND', 'the live diff is not available here');
      const { from, to } = request.query;
      const dim = dimensionOf(request.query.dim);
      const answer = liveDiff.answer(from, to, dim);
      return Promise.resolve({
        ...answer,
        dims: answer.dims.map((entry) => ({
          ...entry,
          windows: entry.windows.map((window) => ({ ...window, windowStart: iso(window.windowStart) })),
          rows: entry.rows.map((row) => ({ ...row, windowStart: iso(row.windowStart) })),
        })),
      });
    },
  );

  const pending = new Map<string, Pending>();
  app.get<{ Querystring: { from: string; to: string; dim: string; key: string; window: string } }>(
    '/api/explain',
    {
      schema: {
        summary:
          'The events that make one row differ (kappa explain --json), computed in the background: ask again until ready',
        querystring: Type.Object(
          {
            from: VersionName,
            to: VersionName,
            dim: DimParam,
            key: Type.String({ maxLength: 191 }),
            window: Instant,
          },
          { additionalProperties: false },
        ),
        response: { 200: ExplainAnswer, 400: ErrorRef, 404: ErrorRef },
      },
    },
    (request) => {
      if (explain === undefined) throw new RequestError('KAPPA_NOT_FOUND', 'explanations are not available here');
      const { from, to, key, window } = request.query;
      const dim = dimensionOf(request.query.dim) as Dimension;
      const windowStart = Date.parse(window);
      const id = JSON.stringify([from, to, dim, key, windowStart]);
      let entry = pending.get(id);
      if (entry === undefined) {
        if (pending.size >= 100) pending.clear();
        const created: Pending = {};
        entry = created;
        pending.set(id, created);
        explain(from, to, dim, key, windowStart).then(
          (result) => {
            created.result = result;
          },
          (error: unknown) => {
            created.error = error instanceof Error ? error.message : String(error);
            pending.delete(id);
          },
        );
      }
      const done = entry.result !== undefined || entry.error !== undefined;
      return Promise.resolve({
        state: done ? 'ready' : 'computing',
        error: entry.error ?? null,
        explanation: entry.result ?? null,
      });
    },
  );
}
