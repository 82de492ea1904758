import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * A refused body that is still arriving is read and dropped up to this many bytes, so the client,
 * which writes all of it before it reads, gets its 413 and keeps its connection. Beyond this the
 * connection is closed instead: nobody gets to make the server read 100 MB to be refused.
 */
export const DISCARD_LIMIT = 8 * 1_048_576;

/**
 * Reads what is left of a request's body and drops it. Resolves true once the body ended within
 * `limit` bytes in all (its declared length, when it has one, counted up front); false as soon as
 * it cannot (longer, or the connection went away) — the caller then closes the connection.
 */
export function discardBody(raw: IncomingMessage, limit: number = DISCARD_LIMIT): Promise<boolean> {
  if (raw.readableEnded || raw.complete) return Promise.resolve(true);
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(false);
  return new Promise((resolve) => {
    let read = 0;
    const done = (ended: boolean) => {
      raw.off('data', onData).off('end', onEnd).off('close', onGone).off('error', onGone);
      if (!ended) raw.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer | string) => {
      read += chunk.length;
      if (read > limit) done(false);
    };
    const onEnd = () => done(true);
    const onGone = () => done(raw.complete);
    raw.on('data', onData).on('end', onEnd).on('close', onGone).on('error', onGone);
    raw.resume();
  });
}

/**
 * Fastify answers a body over its limit with 413 and `Connection: close` before the body has
 * arrived. Each such answer here waits until the rest of the body is read and dropped (within
 * DISCARD_LIMIT) and then keeps the connection; beyond that the close stands.
 */
export function drainRefusedBodies(app: FastifyInstance): void {
  app.addHook('onError', async (request, reply, error) => {
    if (error.statusCode !== 413) return;
    if (await discardBody(request.raw)) reply.removeHeader('connection');
    else reply.header('connection', 'close');
  });
}
