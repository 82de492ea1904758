import type { FastifyInstance } from 'fastify';
import { isLoopbackHostHeader } from './loopback.js';
import { RequestCounter } from './request-counter.js';

/**
 * Guards every request of a Fastify app passes before any route's own hooks — so before a token
 * is looked at or a body parsed. Shared by the API and the schema registry; each turns a refusal
 * into its own error shape through `refuse`.
 */

/** Serves only requests whose `Host` names this machine (DNS rebinding; see loopback.ts). */
export function refuseForeignHosts(app: FastifyInstance, refuse: (host: string) => Error): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const host = request.headers.host;
    if (isLoopbackHostHeader(host)) return done();
    done(refuse(host ?? ''));
  });
}

/**
 * At most `perMinute` requests per client address, every route counted together (0: unlimited);
 * beyond it `refuse(retryAfterSeconds, max)` with a Retry-After header. A hook of the app itself,
 * so it runs before the routes' own hooks: a flood of wrong tokens is limited like anything else.
 */
export function limitRequests(
  app: FastifyInstance,
  perMinute: number,
  refuse: (retryAfterSeconds: number, max: number) => Error,
): void {
  if (perMinute <= 0) return;
  const counter = new RequestCounter(perMinute, 60_000);
  app.addHook('onRequest', (request, reply, done) => {
    const verdict = counter.hit(request.ip);
    if (verdict.allowed) return done();
    const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1_000));
    void reply.header('retry-after', seconds);
    done(refuse(seconds, perMinute));
  });
}
