import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { SwitchResult as Switched, VersionStatus as Status } from '../../recovery/operations.js';
import { bearerMatches } from '../bearer.js';
import { RequestError } from '../request-error.js';
import { ErrorRef, SwitchResultRef, VersionName, VersionStatusRef } from '../schemas.js';

/** What the versions and admin routes do; the server wires the recovery operations in, tests fakes. */
export interface VersionOperations {
  versions(): Promise<readonly Status[]>;
  cutover(to: string): Promise<Switched>;
  rollback(): Promise<Switched>;
}

/** `GET /api/versions`, and the admin routes `POST /api/cutover`, `POST /api/rollback` (bearer token). */
export const versionRoutes: FastifyPluginCallbackTypebox<{ operations: VersionOperations; token: string }> = (
  app,
  { operations, token },
  done,
) => {
  app.get(
    '/api/versions',
    {
      schema: {
        summary: 'Job versions: state, settings, lag, watermark, late events',
        response: { 200: Type.Object({ versions: Type.Array(VersionStatusRef) }) },
      },
    },
    async () => ({ versions: (await operations.versions()).map((status) => ({ ...status, dims: [...status.dims] })) }),
  );

  const requireToken = (request: FastifyRequest): void => {
    if (!bearerMatches(request, token))
      throw new RequestError(
        'KAPPA_UNAUTHORIZED',
        token === ''
          ? 'cutover and rollback over HTTP are disabled: set KAPPA_API_TOKEN'
          : 'a valid bearer token is required (Authorization: Bearer …)',
      );
  };
  const answer = (result: Switched) => ({ from: result.from ?? null, to: result.to, unchanged: result.unchanged });

  app.post(
    '/api/cutover',
    {
      schema: {
        summary: 'Switch readers to a caught-up version (bearer token)',
        security: [{ bearer: [] }],
        body: Type.Object({ to: VersionName }, { additionalProperties: false }),
        response: {
          200: SwitchResultRef,
          400: ErrorRef,
          401: ErrorRef,
          404: ErrorRef,
          409: ErrorRef,
        },
      },
    },
    async (request) => {
      requireToken(request);
      return answer(await operations.cutover(request.body.to));
    },
  );
  app.post(
    '/api/rollback',
    {
      schema: {
        summary: 'Switch readers back to the previous version (bearer token)',
        security: [{ bearer: [] }],
        response: { 200: SwitchResultRef, 401: ErrorRef, 409: ErrorRef },
      },
    },
    async (request) => {
      requireToken(request);
      return answer(await operations.rollback());
    },
  );
  done();
};
