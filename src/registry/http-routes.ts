import type { FastifyPluginAsync } from 'fastify';
import {
  deletedFilter,
  flag,
  flags,
  integers,
  page,
  parseVersion,
  schemaBody,
  schemaOf,
  strings,
  subjectParams,
  validSubject,
  versionParams,
  versionView,
  view,
  type Flags,
  type SchemaBody,
} from './http-params.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';

export { parseVersion } from './http-params.js';

const metadataQuery = {
  type: 'object',
  properties: {
    ...flags.properties,
    key: { type: 'array', items: { type: 'string' } },
    value: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** Subjects and their versions: register, look up, list, read, delete. */
export const registryRoutes: FastifyPluginAsync<{ service: RegistryService }> = (app, { service }) => {
  app.get('/', { schema: { response: { 200: { type: 'object' } } } }, () => ({}));

  app.get<{ Querystring: Flags }>(
    '/subjects',
    { schema: { querystring: flags, response: { 200: strings } } },
    async (request) => {
      await service.catchUp();
      return page(
        service.state.subjectNames(deletedFilter(request.query), request.query.subjectPrefix ?? ''),
        request.query,
      );
    },
  );

  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/subjects/:subject/versions',
    { schema: { params: subjectParams, querystring: flags, response: { 200: integers } } },
    async (request) =>
      page(await service.versions(request.params.subject, deletedFilter(request.query)), request.query),
  );

  app.get<{ Params: { subject: string; version: string }; Querystring: Flags }>(
    '/subjects/:subject/versions/:version',
    { schema: { params: versionParams, querystring: flags, response: { 200: versionView } } },
    async (request) =>
      view(
        await service.version(
          request.params.subject,
          parseVersion(request.params.version),
          flag(request.query.deleted),
        ),
      ),
  );

  app.get<{ Params: { subject: string; version: string }; Querystring: Flags }>(
    '/subjects/:subject/versions/:version/schema',
    { schema: { params: versionParams, querystring: flags } },
    async (request, reply) => {
      const entry = await service.version(
        request.params.subject,
        parseVersion(request.params.version),
        flag(request.query.deleted),
      );
      return reply.type('application/json').send(entry.schema);
    },
  );

  // Schema references are not supported, so no schema references another one.
  app.get<{ Params: { subject: string; version: string } }>(
    '/subjects/:subject/versions/:version/referencedby',
    { schema: { params: versionParams, querystring: flags, response: { 200: integers } } },
    async (request) => {
      await service.version(request.params.subject, parseVersion(request.params.version), true);
      return [];
    },
  );

  app.post<{ Params: { subject: string }; Body: SchemaBody; Querystring: Flags }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: subjectParams,
        body: schemaBody,
        querystring: flags,
        response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } },
      },
    },
    async (request) => ({
      id: await service.register(validSubject(request.params.subject), schemaOf(request.body)),
    }),
  );

  app.post<{ Params: { subject: string }; Body: SchemaBody; Querystring: Flags }>(
    '/subjects/:subject',
    { schema: { params: subjectParams, body: schemaBody, querystring: flags, response: { 200: versionView } } },
    async (request) =>
      view(await service.lookup(request.params.subject, schemaOf(request.body), flag(request.query.deleted))),
  );

  // getLatestWithMetadata: Confluent answers the newest version whose metadata has every key/value
  // asked for, and 40403 when no version has metadata at all. Metadata is refused on registration
  // here, so a subject that exists always answers 40403 — exactly what Confluent answers for it.
  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/subjects/:subject/metadata',
    { schema: { params: subjectParams, querystring: metadataQuery, response: { 200: versionView } } },
    async (request) => {
      await service.versions(request.params.subject, flag(request.query.deleted) ? 'with-deleted' : 'live');
      throw new RegistryError('SCHEMA_NOT_FOUND', 'Schema not found');
    },
  );

  app.delete<{ Params: { subject: string }; Querystring: Flags }>(
    '/subjects/:subject',
    { schema: { params: subjectParams, querystring: flags, response: { 200: integers } } },
    (request) => service.deleteSubject(request.params.subject, flag(request.query.permanent)),
  );

  app.delete<{ Params: { subject: string; version: string }; Querystring: Flags }>(
    '/subjects/:subject/versions/:version',
    { schema: { params: versionParams, querystring: flags, response: { 200: { type: 'integer' } } } },
    (request) =>
      service.deleteVersion(
        request.params.subject,
        parseVersion(request.params.version),
        flag(request.query.permanent),
      ),
  );

  return Promise.resolve();
};
