import type { FastifyPluginAsync } from 'fastify';
import {
  deletedFilter,
  flag,
  flags,
  idParams,
  page,
  parseId,
  parseVersion,
  schemaBody,
  schemaOf,
  strings,
  subjectParams,
  versionParams,
  versionView,
  view,
  type Flags,
  type SchemaBody,
} from './http-params.js';
import { RegistryError } from './registry-errors.js';
import type { CompatibilityTarget, RegistryService } from './registry-service.js';

const verdict = {
  type: 'object',
  properties: { is_compatible: { type: 'boolean' }, messages: strings },
} as const;

/** Schemas by id, the schema listing, and compatibility checks. */
export const schemaRoutes: FastifyPluginAsync<{ service: RegistryService }> = (app, { service }) => {
  app.get<{ Params: { id: string } }>(
    '/schemas/ids/:id',
    {
      schema: {
        params: idParams,
        querystring: flags,
        response: { 200: { type: 'object', properties: { schema: { type: 'string' } } } },
      },
    },
    async (request) => ({ schema: await service.schemaById(parseId(request.params.id)) }),
  );

  app.get<{ Params: { id: string } }>(
    '/schemas/ids/:id/schema',
    { schema: { params: idParams, querystring: flags } },
    async (request, reply) => reply.type('application/json').send(await service.schemaById(parseId(request.params.id))),
  );

  app.get<{ Params: { id: string }; Querystring: Flags }>(
    '/schemas/ids/:id/versions',
    {
      schema: {
        params: idParams,
        querystring: flags,
        response: {
          200: {
            type: 'array',
            items: { type: 'object', properties: { subject: { type: 'string' }, version: { type: 'integer' } } },
          },
        },
      },
    },
    async (request) => {
      const id = parseId(request.params.id);
      await service.schemaById(id);
      return page(
        service.state.usages(id, flag(request.query.deleted)).map(({ subject, version }) => ({ subject, version })),
        request.query,
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: Flags }>(
    '/schemas/ids/:id/subjects',
    { schema: { params: idParams, querystring: flags, response: { 200: strings } } },
    async (request) => {
      const id = parseId(request.params.id);
      await service.schemaById(id);
      return page(
        [...new Set(service.state.usages(id, flag(request.query.deleted)).map(({ subject }) => subject))],
        request.query,
      );
    },
  );

  app.get<{ Querystring: Flags }>(
    '/schemas',
    { schema: { querystring: flags, response: { 200: { type: 'array', items: versionView } } } },
    async (request) => {
      await service.catchUp();
      const versions = service.state.everyVersion(deletedFilter(request.query), request.query.subjectPrefix ?? '');
      const shown = flag(request.query.latestOnly)
        ? versions.filter((entry, index) => versions[index + 1]?.subject !== entry.subject)
        : versions;
      return page(shown.map(view), request.query);
    },
  );

  app.get('/schemas/types', { schema: { response: { 200: strings } } }, () => ['AVRO']);

  const check = async (subject: string, target: CompatibilityTarget, body: SchemaBody, verbose: boolean) => {
    let messages: string[];
    try {
      messages = await service.checkCompatibility(subject, target, schemaOf(body));
    } catch (error) {
      // Confluent: with verbose=true an invalid schema is a verdict, not an error.
      if (!verbose || !(error instanceof RegistryError) || error.kind !== 'INVALID_SCHEMA') throw error;
      messages = [error.message];
    }
    return verbose ? { is_compatible: messages.length === 0, messages } : { is_compatible: messages.length === 0 };
  };

  app.post<{ Params: { subject: string; version: string }; Body: SchemaBody; Querystring: Flags }>(
    '/compatibility/subjects/:subject/versions/:version',
    { schema: { params: versionParams, body: schemaBody, querystring: flags, response: { 200: verdict } } },
    (request) =>
      check(request.params.subject, parseVersion(request.params.version), request.body, flag(request.query.verbose)),
  );

  app.post<{ Params: { subject: string }; Body: SchemaBody; Querystring: Flags }>(
    '/compatibility/subjects/:subject/versions',
    { schema: { params: subjectParams, body: schemaBody, querystring: flags, response: { 200: verdict } } },
    (request) => check(request.params.subject, 'subject', request.body, flag(request.query.verbose)),
  );

  return Promise.resolve();
};
