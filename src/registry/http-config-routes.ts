import type { FastifyPluginAsync } from 'fastify';
import { flag, flags, parseLevel, strings, subjectParams, validSubject, type Flags } from './http-params.js';
import { RegistryError } from './registry-errors.js';
import type { SubjectConfig } from './registry-state.js';
import type { RegistryService } from './registry-service.js';

export interface ServerIdentity {
  /** The Kafka cluster id of the schema log's broker, for `/v1/metadata/id`. */
  readonly kafkaClusterId?: string;
}

interface ConfigBody {
  readonly compatibility?: string | null;
  readonly compatibilityLevel?: string | null;
  readonly normalize?: boolean | null;
}

// Confluent's ConfigUpdateRequest has more fields (alias, defaultMetadata, …); unknown ones are ignored.
const configBody = {
  type: 'object',
  properties: {
    compatibility: { type: ['string', 'null'] },
    compatibilityLevel: { type: ['string', 'null'] },
    normalize: { type: ['boolean', 'null'] },
  },
} as const;

const configView = {
  type: 'object',
  properties: { compatibilityLevel: { type: 'string' }, normalize: { type: 'boolean' } },
} as const;

const updateView = {
  type: 'object',
  properties: { compatibility: { type: 'string' }, normalize: { type: 'boolean' } },
} as const;

const modeView = { type: 'object', properties: { mode: { type: 'string' } } } as const;

const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT', 'FORWARD'];

/** The fields of a PUT /config body, as the update to store and the answer to give. */
function configUpdate(body: ConfigBody | undefined): { update: SubjectConfig; answer: Record<string, unknown> } {
  const level = body?.compatibility ?? body?.compatibilityLevel;
  const update: SubjectConfig = {
    ...(level === null || level === undefined ? {} : { compatibilityLevel: parseLevel(level) }),
    ...(body?.normalize === null || body?.normalize === undefined ? {} : { normalize: body.normalize }),
  };
  const answer = {
    ...(update.compatibilityLevel === undefined ? {} : { compatibility: update.compatibilityLevel }),
    ...(update.normalize === undefined ? {} : { normalize: update.normalize }),
  };
  return { update, answer };
}

const configAnswer = (config: SubjectConfig) => ({
  ...(config.compatibilityLevel === undefined ? {} : { compatibilityLevel: config.compatibilityLevel }),
  ...(config.normalize === undefined ? {} : { normalize: config.normalize }),
});

/** Compatibility configuration, the (fixed) mode, contexts and server metadata. */
export const configRoutes: FastifyPluginAsync<{ service: RegistryService; identity: ServerIdentity }> = (
  app,
  { service, identity },
) => {
  const globalConfig = (): SubjectConfig => ({
    ...service.state.config(null),
    compatibilityLevel: service.state.globalConfig(),
  });

  app.get('/config', { schema: { querystring: flags, response: { 200: configView } } }, async () => {
    await service.catchUp();
    return configAnswer(globalConfig());
  });

  app.put<{ Body: ConfigBody }>(
    '/config',
    { schema: { body: configBody, response: { 200: updateView } } },
    async (request) => {
      const { update, answer } = configUpdate(request.body);
      await service.setConfig(null, update);
      return answer;
    },
  );

  // Reverts to the default (BACKWARD) and answers the configuration it replaced.
  app.delete('/config', { schema: { response: { 200: configView } } }, async () => {
    await service.sync();
    const old = globalConfig();
    await service.setConfig(null, null);
    return configAnswer(old);
  });

  // Without defaultToGlobal a subject with no level of its own is 40408, not the global level:
  // kafkajs's register() reads this to decide whether to set the level itself.
  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/config/:subject',
    { schema: { params: subjectParams, querystring: flags, response: { 200: configView } } },
    async (request) => {
      await service.catchUp();
      const own = service.state.config(request.params.subject);
      if (own !== undefined) return configAnswer(own);
      if (flag(request.query.defaultToGlobal)) return configAnswer(globalConfig());
      throw new RegistryError(
        'SUBJECT_CONFIG_NOT_FOUND',
        `Subject '${request.params.subject}' does not have subject-level compatibility configured`,
      );
    },
  );

  app.put<{ Params: { subject: string }; Body: ConfigBody }>(
    '/config/:subject',
    { schema: { params: subjectParams, body: configBody, response: { 200: updateView } } },
    async (request) => {
      const { update, answer } = configUpdate(request.body);
      await service.setConfig(validSubject(request.params.subject), update);
      return answer;
    },
  );

  // Confluent answers 40401 (not 40408) when the subject has no configuration to delete.
  app.delete<{ Params: { subject: string } }>(
    '/config/:subject',
    { schema: { params: subjectParams, response: { 200: configView } } },
    async (request) => {
      await service.sync();
      const own = service.state.config(request.params.subject);
      if (own === undefined)
        throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${request.params.subject}' not found.`);
      await service.setConfig(request.params.subject, null);
      return configAnswer(own);
    },
  );

  // The mode is always READWRITE: there is no import or read-only mode to switch to.
  app.get('/mode', { schema: { querystring: flags, response: { 200: modeView } } }, () => ({ mode: 'READWRITE' }));

  app.get<{ Params: { subject: string }; Querystring: Flags }>(
    '/mode/:subject',
    { schema: { params: subjectParams, querystring: flags, response: { 200: modeView } } },
    (request) => {
      if (flag(request.query.defaultToGlobal)) return { mode: 'READWRITE' };
      throw new RegistryError(
        'SUBJECT_MODE_NOT_FOUND',
        `Subject '${request.params.subject}' does not have subject-level mode configured`,
      );
    },
  );

  const refuseMode = (body: { mode?: unknown } | undefined): never => {
    const mode = typeof body?.mode === 'string' ? body.mode.toUpperCase() : '';
    if (!MODES.includes(mode))
      throw new RegistryError(
        'INVALID_MODE',
        'Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT and FORWARD.',
      );
    throw new RegistryError(
      'OPERATION_NOT_PERMITTED',
      'Changing the mode is not supported: this registry is always READWRITE (ids are assigned from its log, never imported)',
    );
  };
  app.put<{ Body: { mode?: unknown } }>('/mode', (request) => refuseMode(request.body));
  app.put<{ Params: { subject: string }; Body: { mode?: unknown } }>('/mode/:subject', (request) =>
    refuseMode(request.body),
  );
  app.delete('/mode', () => {
    throw new RegistryError('OPERATION_NOT_PERMITTED', 'The global mode is always READWRITE and cannot be deleted');
  });
  app.delete<{ Params: { subject: string } }>('/mode/:subject', (request) => {
    throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${request.params.subject}' not found.`);
  });

  // One context, the default one: schema contexts are not supported.
  app.get('/contexts', { schema: { querystring: flags, response: { 200: strings } } }, () => ['.']);
  app.delete('/contexts/:context', () => {
    throw new RegistryError(
      'OPERATION_NOT_PERMITTED',
      'Schema contexts are not supported: the default context cannot be deleted',
    );
  });

  app.get('/v1/metadata/id', () => ({
    scope: {
      path: [],
      clusters: {
        ...(identity.kafkaClusterId === undefined ? {} : { 'kafka-cluster': identity.kafkaClusterId }),
        'schema-registry-cluster': 'schema-registry',
      },
    },
  }));

  return Promise.resolve();
};
