import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

const require = createRequire(import.meta.url);

/** Files the dashboard needs, all served from this process (the machine may have no internet). */
const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  'uPlot.iife.min.js': {
    file: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': {
    file: new URL('./dashboard/dashboard.js', import.meta.url).pathname,
    type: 'text/javascript; charset=utf-8',
  },
  'dashboard.css': {
    file: new URL('./dashboard/dashboard.css', import.meta.url).pathname,
    type: 'text/css; charset=utf-8',
  },
};
const PAGE = new URL('./dashboard/index.html', import.meta.url).pathname;

/** `GET /`: counts per window per user as live charts (polling the API), versions side by side. */
export function registerDashboard(app: FastifyInstance): void {
  const cache = new Map<string, string>();
  const load = (file: string) => {
    let text = cache.get(file);
    if (text === undefined) {
      text = readFileSync(file, 'utf8');
      cache.set(file, text);
    }
    return text;
  };
  app.get('/', { schema: { hide: true, response: { 200: Type.String() } } }, (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(load(PAGE)),
  );
  app.get(
    '/assets/:name',
    {
      schema: {
        hide: true,
        params: Type.Object(
          { name: Type.Union(Object.keys(ASSETS).map((name) => Type.Literal(name))) },
          { additionalProperties: false },
        ),
        response: { 200: Type.String() },
      },
    },
    (request, reply) => {
      const asset = ASSETS[(request.params as { name: string }).name];
      if (asset === undefined) return reply.callNotFound();
      return reply.type(asset.type).header('cache-control', 'max-age=60').send(load(asset.file));
    },
  );
}
