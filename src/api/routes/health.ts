import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { registerMetrics, type ApiMetrics } from '../metrics.js';

export type ReadinessChecks = Readonly<Record<'kafka' | 'registry' | 'mysql', () => Promise<void>>>;

/** `GET /api/health`, `GET /api/ready` (each dependency answers within 3 s) and Prometheus `/metrics`. */
export const healthRoutes: FastifyPluginCallbackTypebox<{ readiness: ReadinessChecks; metrics: ApiMetrics }> = (
  app,
  { readiness, metrics },
  done,
) => {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }) },
      },
    },
    () => ({ status: 'ok' as const, uptimeSeconds: process.uptime() }),
  );

  const Check = Type.Union([Type.Literal('ok'), Type.String()]);
  const Ready = Type.Object({
    ready: Type.Boolean(),
    checks: Type.Object({ kafka: Check, registry: Check, mysql: Check }),
  });
  app.get(
    '/api/ready',
    { schema: { summary: 'Kafka, the schema registry and MySQL answer', response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const entries = await Promise.all(
        (Object.entries(readiness) as ['kafka' | 'registry' | 'mysql', () => Promise<void>][]).map(
          async ([name, check]) => {
            try {
              await Promise.race([
                check(),
                new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3_000).unref()),
              ]);
              return [name, 'ok'] as const;
            } catch (error) {
              return [name, error instanceof Error ? error.message : String(error)] as const;
            }
          },
        ),
      );
      const checks = Object.fromEntries(entries) as Record<'kafka' | 'registry' | 'mysql', string>;
      const ready = entries.every(([, result]) => result === 'ok');
      return reply.status(ready ? 200 : 503).send({ ready, checks });
    },
  );

  registerMetrics(app, metrics);
  done();
};
