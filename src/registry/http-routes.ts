import type { FastifyPluginAsync } from 'fastify';
import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility.js';
import { RegistryError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import type { SchemaVersion } from './registry-state.js';

const MAX_VERSION = 2 ** 31 - 1;

/** `latest`, `-1` (Confluent's alias for latest) or 1 … 2^31-1; anything else is 42202. */
export function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  const version = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(version >= 1 && version <= MAX_VERSION)) {
    throw new RegistryError(
      'INVALID_VERSION',
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return version;
}

function parseLevel(value: unknown): CompatibilityLevel {
  const level = typeof value === 'string' ? value.toUpperCase() : value;
  if (!isCompatibilityLevel(level)) {
    throw new RegistryError(
      'INVALID_COMPATIBILITY_LEVEL',
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    );
  }
  return level;
}

function parseId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(id >= 1 && id <= MAX_VERSION)) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${text} not found`);
  return id;
}

interface SchemaBody {
  readonly schema: string;
  readonly schemaType?: string;
  readonly references?: readonly unknown[];
}

/** The schema text of a request; only Avro without references is served here. */
function schemaOf(body: SchemaBody): string {
  if (body.schemaType !== undefined && body.schemaType.toUpperCase() !== 'AVRO') {
    throw new RegistryError(
      'INVALID_SCHEMA',
      `Invalid schema: schemaType ${body.schemaType} is not supported (only AVRO)`,
    );
  }
  if ((body.references ?? []).length > 0)
    throw new RegistryError('INVALID_SCHEMA', 'Invalid schema: schema references are not supported');
  return body.schema;
}

/** Confluent omits schemaType for Avro, and so do we. */
const view = (entry: SchemaVersion) => ({
  subject: entry.subject,
  id: entry.id,
  version: entry.version,
  schema: entry.schema,
});

const truthy = (value: string | undefined) => value === 'true';

// Clients send fields we do not use (metadata, ruleSet, echoed responses): they are accepted and ignored.
const schemaBody = {
  type: 'object',
  required: ['schema'],
  properties: {
    schema: { type: 'string', minLength: 1 },
    schemaType: { type: 'string' },
    references: { type: 'array' },
  },
} as const;
const subjectParams = {
  type: 'object',
  required: ['subject'],
  properties: { subject: { type: 'string', minLength: 1 } },
} as const;
const versionParams = {
  type: 'object',
  required: ['subject', 'version'],
  properties: { subject: { type: 'string', minLength: 1 }, version: { type: 'string' } },
} as const;
const flags = {
  type: 'object',
  properties: {
    deleted: { type: 'string' },
    permanent: { type: 'string' },
    normalize: { type: 'string' },
    defaultToGlobal: { type: 'string' },
    verbose: { type: 'string' },
    subject: { type: 'string' },
    format: { type: 'string' },
  },
} as const;
const versionView = {
  type: 'object',
  properties: {
    subject: { type: 'string' },
    id: { type: 'integer' },
    version: { type: 'integer' },
    schema: { type: 'string' },
  },
} as const;
const configBody = {
  type: 'object',
  required: ['compatibility'],
  properties: { compatibility: { type: 'string' } },
} as const;

interface Flags {
  readonly deleted?: string;
  readonly permanent?: string;
  readonly defaultToGlobal?: string;
  readonly verbose?: string;
}

export const registryRoutes: FastifyPluginAsync<{ service: RegistryService }> = (app, { service }) => {
  app.get('/', () => ({}));

  app.get<{ Querystring: Flags }>(
    '/subjects',
    { schema: { querystring: flags, response: { 200: { type: 'array', items: { type: 'string' } } } } },
    async (request) => {
      await service.sync();
      return service.state.subjectNames(truthy(request.query.deleted));
    },
  );

  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/subjects/:subject/versions',
    {
      schema: {
        params: subjectParams,
        querystring: flags,
        response: { 200: { type: 'array', items: { type: 'integer' } } },
      },
    },
    (request) => service.versions(request.params.subject, truthy(request.query.deleted)),
  );

  app.get<{ Params: { subject: string; version: string }; Querystring: Flags }>(
    '/subjects/:subject/versions/:version',
    { schema: { params: versionParams, querystring: flags, response: { 200: versionView } } },
    async (request) =>
      view(
        await service.version(
          request.params.subject,
          parseVersion(request.params.version),
          truthy(request.query.deleted),
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
        truthy(request.query.deleted),
      );
      return reply.type('application/json').send(entry.schema);
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
    async (request) => ({ id: await service.register(request.params.subject, schemaOf(request.body)) }),
  );

  app.post<{ Params: { subject: string }; Body: SchemaBody; Querystring: Flags }>(
    '/subjects/:subject',
    { schema: { params: subjectParams, body: schemaBody, querystring: flags, response: { 200: versionView } } },
    async (request) =>
      view(await service.lookup(request.params.subject, schemaOf(request.body), truthy(request.query.deleted))),
  );

  app.delete<{ Params: { subject: string }; Querystring: Flags }>(
    '/subjects/:subject',
    {
      schema: {
        params: subjectParams,
        querystring: flags,
        response: { 200: { type: 'array', items: { type: 'integer' } } },
      },
    },
    (request) => {
      if (truthy(request.query.permanent)) {
        // A hard delete would make every message written with those ids undecodable on replay.
        throw new RegistryError(
          'OPERATION_NOT_PERMITTED',
          'Permanent deletes are not supported: in a Kappa architecture every schema id must stay resolvable for replays',
        );
      }
      return service.deleteSubject(request.params.subject);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/schemas/ids/:id',
    { schema: { response: { 200: { type: 'object', properties: { schema: { type: 'string' } } } } } },
    async (request) => ({
      schema: await service.schemaById(parseId(request.params.id)),
    }),
  );

  app.get<{ Params: { id: string } }>('/schemas/ids/:id/versions', async (request) => {
    const id = parseId(request.params.id);
    await service.schemaById(id);
    return service.state.usages(id);
  });

  app.get('/schemas/types', () => ['AVRO']);

  app.post<{ Params: { subject: string; version: string }; Body: SchemaBody; Querystring: Flags }>(
    '/compatibility/subjects/:subject/versions/:version',
    { schema: { params: versionParams, body: schemaBody, querystring: flags } },
    async (request) => {
      const { subject, version } = request.params;
      const parsed = parseVersion(version);
      const schema = schemaOf(request.body);
      await service.sync();
      // Confluent (7.x+) answers compatible for a subject that does not exist yet.
      if (parsed === 'latest' && service.state.liveVersionsOrNone(subject).length === 0) return { is_compatible: true };
      const messages = await service.checkCompatibility(subject, parsed, schema);
      return truthy(request.query.verbose)
        ? { is_compatible: messages.length === 0, messages }
        : { is_compatible: messages.length === 0 };
    },
  );

  app.get('/config', async () => {
    await service.sync();
    return { compatibilityLevel: service.state.globalConfig() };
  });

  app.put<{ Body: { compatibility: string } }>('/config', { schema: { body: configBody } }, async (request) => {
    const compatibility = parseLevel(request.body.compatibility);
    await service.setConfig(null, compatibility);
    return { compatibility };
  });

  // Without defaultToGlobal a subject with no level of its own is 40408, not the global level:
  // kafkajs's register() reads this to decide whether to set the level itself.
  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/config/:subject',
    { schema: { params: subjectParams, querystring: flags } },
    async (request) => {
      await service.sync();
      const own = service.state.subjectConfig(request.params.subject);
      if (own !== undefined) return { compatibilityLevel: own };
      if (truthy(request.query.defaultToGlobal)) return { compatibilityLevel: service.state.globalConfig() };
      throw new RegistryError(
        'SUBJECT_CONFIG_NOT_FOUND',
        `Subject '${request.params.subject}' does not have subject-level compatibility configured`,
      );
    },
  );

  app.put<{ Params: { subject: string }; Body: { compatibility: string } }>(
    '/config/:subject',
    { schema: { params: subjectParams, body: configBody } },
    async (request) => {
      const compatibility = parseLevel(request.body.compatibility);
      await service.setConfig(request.params.subject, compatibility);
      return { compatibility };
    },
  );

  app.delete<{ Params: { subject: string } }>(
    '/config/:subject',
    { schema: { params: subjectParams } },
    async (request) => {
      await service.sync();
      const own = service.state.subjectConfig(request.params.subject);
      if (own === undefined)
        throw new RegistryError(
          'SUBJECT_CONFIG_NOT_FOUND',
          `Subject '${request.params.subject}' does not have subject-level compatibility configured`,
        );
      await service.setConfig(request.params.subject, null);
      return { compatibilityLevel: own };
    },
  );

  return Promise.resolve();
};
