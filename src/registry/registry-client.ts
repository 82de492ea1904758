import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

/**
 * The registry's bearer token (KAPPA_REGISTRY_TOKEN) for every client kappa opens on a registry.
 * Set once by the command line after it loads its settings, so the stages, ingest and the API
 * need not carry it next to every registry URL; empty: no Authorization header (an open registry).
 */
let registryToken = '';

export function useRegistryToken(token: string): void {
  registryToken = token;
}

/** The headers kappa sends the registry: `Authorization: Bearer …` when a token is set. */
export function registryHeaders(): Record<string, string> {
  return registryToken === '' ? {} : { authorization: `Bearer ${registryToken}` };
}

type ClientMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/** Adds the bearer token to each request of @kafkajs/confluent-schema-registry (a mappersmith middleware). */
const bearer: ClientMiddleware = () => ({
  prepareRequest: async (next) => {
    const request = await next();
    const headers = registryHeaders();
    return Object.keys(headers).length === 0 ? request : request.enhance({ headers });
  },
});

/** A Confluent registry client that sends the token (if any) with every request. */
export function registryClient(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url, middlewares: [bearer] });
}
