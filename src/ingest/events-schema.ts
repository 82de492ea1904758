import { registryClient } from '../registry/registry-client.js';
import { valueSubject } from '../kafka/topics.js';
import { parseAvro } from '../registry/avro-schema.js';
import { registerHistory } from '../registry/register-history.js';
import { loadSchemaHistories } from '../registry/schema-history.js';
import { KappaError } from '../shared/errors.js';

export interface EventsSchema {
  /** The registry id of the latest version. */
  readonly id: number;
  readonly type: ReturnType<typeof parseAvro>;
  /** The latest version's field names. */
  readonly fields: ReadonlySet<string>;
}

/** Registers the events schema history for `topic` and returns how to encode with its latest version. */
export async function registerEventsSchema(options: {
  readonly schemasDir: string;
  readonly registryUrl: string;
  readonly topic: string;
}): Promise<EventsSchema> {
  const history = (await loadSchemaHistories(options.schemasDir)).find((entry) => entry.name === 'events');
  if (history === undefined)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', `${options.schemasDir} has no events/ schema history`);
  const registered = await registerHistory(
    registryClient(options.registryUrl),
    history,
    valueSubject(options.topic),
    options.registryUrl,
  );
  const latest = history.versions.at(-1);
  const id = registered.at(-1)?.id;
  if (latest === undefined || id === undefined)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', 'the events schema history is empty');
  const fields = new Set(
    (JSON.parse(latest.schema) as { fields: { name: string }[] }).fields.map((field) => field.name),
  );
  return { id, type: parseAvro(latest.schema), fields };
}
